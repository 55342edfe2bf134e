//! Screen profiles in the store, one row per screen name with the profile
//! as JSON: the SQL both backends share, written once like `rows.rs`.

use noc_shared::Profile;

use super::StoreError;

/// Inserts or replaces one profile; binds name, JSON, unix milliseconds.
pub const UPSERT_PROFILE: &str = "INSERT INTO profiles (name, profile, updated_at) \
     VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET \
     profile = excluded.profile, updated_at = excluded.updated_at";

/// A profile as stored.
pub fn to_json(name: &str, profile: &Profile) -> Result<String, StoreError> {
    serde_json::to_string(profile).map_err(|e| StoreError::Corrupt {
        id: format!("profile {name}"),
        what: e.to_string(),
    })
}

/// A stored profile read back.
pub fn from_json(name: &str, json: &str) -> Result<Profile, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt {
        id: format!("profile {name}"),
        what: e.to_string(),
    })
}

/// Expands to `load_profiles`, `load_profile`, `save_profiles` and
/// `remove_profile` for one backend.
macro_rules! profile_sql {
    ($db:ty) => {
        async fn load_profiles(
            pool: &sqlx::Pool<$db>,
        ) -> Result<
            std::collections::BTreeMap<String, noc_shared::Profile>,
            $crate::store::StoreError,
        > {
            let rows: Vec<(String, String)> = sqlx::query_as("SELECT name, profile FROM profiles")
                .fetch_all(pool)
                .await?;
            rows.into_iter()
                .map(|(name, json)| {
                    let profile = $crate::store::profiles::from_json(&name, &json)?;
                    Ok((name, profile))
                })
                .collect()
        }

        async fn load_profile(
            pool: &sqlx::Pool<$db>,
            name: &str,
        ) -> Result<Option<noc_shared::Profile>, $crate::store::StoreError> {
            let json: Option<String> =
                sqlx::query_scalar("SELECT profile FROM profiles WHERE name = $1")
                    .bind(name)
                    .fetch_optional(pool)
                    .await?;
            json.map(|j| $crate::store::profiles::from_json(name, &j))
                .transpose()
        }

        /// Sets each of `profiles` inside `tx`.
        async fn save_profiles(
            tx: &mut sqlx::Transaction<'_, $db>,
            profiles: &[(String, noc_shared::Profile)],
        ) -> Result<(), $crate::store::StoreError> {
            let now = chrono::Utc::now().timestamp_millis();
            for (name, profile) in profiles {
                sqlx::query($crate::store::profiles::UPSERT_PROFILE)
                    .bind(name)
                    .bind($crate::store::profiles::to_json(name, profile)?)
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
            }
            Ok(())
        }

        /// Removes `name`'s profile inside `tx`; false when it had none.
        async fn remove_profile(
            tx: &mut sqlx::Transaction<'_, $db>,
            name: &str,
        ) -> Result<bool, $crate::store::StoreError> {
            let done = sqlx::query("DELETE FROM profiles WHERE name = $1")
                .bind(name)
                .execute(&mut **tx)
                .await?;
            Ok(done.rows_affected() > 0)
        }
    };
}

pub(super) use profile_sql;
