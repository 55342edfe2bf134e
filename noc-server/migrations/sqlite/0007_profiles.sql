-- Screen profiles, by the name a screen connects with (`client=wall-3`):
-- the profile as JSON (every key, null where it leaves the screen's own
-- setting) and when it was last set (unix milliseconds). The screens file
-- and the API both write here.
CREATE TABLE profiles (
    name       TEXT PRIMARY KEY NOT NULL,
    profile    TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
