//! A busy NOC's traffic as a sequence of operations: alerts created,
//! updated, resolved and re-opened, a few ids that flap, and people's acks
//! and notes. The model only picks the next operation; sending it is
//! `send`'s job.

use rand::Rng;
use rand::rngs::StdRng;
use std::collections::VecDeque;

/// Ids that flap: they open and resolve again and again all week.
const FLAPPING: u64 = 20;
/// Resolved ids remembered for re-opening (a fault that comes back).
const RECENT_RESOLVED: usize = 500;

/// One thing that happens in the NOC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// A webhook post of `alert.created` (new, update or re-open).
    Open { id: String, severity: &'static str },
    /// A webhook post of `alert.resolved`.
    Resolve { id: String },
    /// A person acknowledges an active alert.
    Ack { id: String },
    /// A person writes a note on an alert.
    Note { id: String },
}

impl Op {
    /// Whether the operation is a webhook post (timed as ingest).
    pub fn is_ingest(&self) -> bool {
        matches!(self, Op::Open { .. } | Op::Resolve { .. })
    }
}

/// What the NOC holds open, as far as the generator knows.
pub struct Traffic {
    rng: StdRng,
    /// Active ids, oldest first.
    active: VecDeque<String>,
    /// Ids resolved lately, newest last.
    resolved: VecDeque<String>,
    /// Whether each flapping id is up now.
    flapping_up: Vec<bool>,
    /// The most ids open at once; past it the oldest is resolved.
    cap: usize,
    next: u64,
}

const SEVERITIES: [&str; 5] = ["critical", "high", "average", "warning", "info"];

impl Traffic {
    pub fn new(rng: StdRng, cap: usize) -> Self {
        Traffic {
            rng,
            active: VecDeque::new(),
            resolved: VecDeque::new(),
            flapping_up: vec![false; FLAPPING as usize],
            cap: cap.max(1),
            next: 0,
        }
    }

    /// Ids open now (flapping ones apart).
    #[cfg(test)]
    pub fn active(&self) -> usize {
        self.active.len()
    }

    /// The next operation. The mix: 30 % new alerts, 25 % updates, 25 %
    /// resolves, 5 % re-opens, 8 % flapping, 4 % acks, 3 % notes.
    pub fn next_op(&mut self) -> Op {
        let roll = self.rng.random_range(0..100);
        let severity = SEVERITIES[self.rng.random_range(0..SEVERITIES.len())];
        if self.active.is_empty() || roll < 30 {
            return self.create(severity);
        }
        let pick = self.rng.random_range(0..self.active.len());
        match roll {
            30..55 => Op::Open {
                id: self.active[pick].clone(),
                severity,
            },
            55..80 => self.resolve_at(pick),
            80..85 => match self.resolved.pop_front() {
                Some(_) if self.active.len() >= self.cap => self.resolve_at(0),
                Some(id) => {
                    self.active.push_back(id.clone());
                    Op::Open { id, severity }
                }
                None => self.create(severity),
            },
            85..93 => {
                let k = self.rng.random_range(0..FLAPPING);
                let up = &mut self.flapping_up[k as usize];
                *up = !*up;
                let id = format!("soak-flap-{k}");
                if *up {
                    Op::Open { id, severity }
                } else {
                    Op::Resolve { id }
                }
            }
            93..97 => Op::Ack {
                id: self.active[pick].clone(),
            },
            _ => Op::Note {
                id: self.active[pick].clone(),
            },
        }
    }

    /// A new id; when the NOC is full, the oldest open one is resolved
    /// instead (an alert does not stay open all week).
    fn create(&mut self, severity: &'static str) -> Op {
        if self.active.len() >= self.cap {
            return self.resolve_at(0);
        }
        self.next += 1;
        let id = format!("soak-{}", self.next);
        self.active.push_back(id.clone());
        Op::Open { id, severity }
    }

    fn resolve_at(&mut self, pick: usize) -> Op {
        let id = self.active.remove(pick).expect("a picked id is active");
        self.resolved.push_back(id.clone());
        if self.resolved.len() > RECENT_RESOLVED {
            self.resolved.pop_front();
        }
        Op::Resolve { id }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn the_mix_stays_within_the_cap_and_uses_every_kind() {
        let mut t = Traffic::new(StdRng::seed_from_u64(7), 100);
        let mut kinds = [0u32; 4];
        for _ in 0..20_000 {
            let op = t.next_op();
            kinds[match op {
                Op::Open { .. } => 0,
                Op::Resolve { .. } => 1,
                Op::Ack { .. } => 2,
                Op::Note { .. } => 3,
            }] += 1;
            assert!(t.active() <= 100);
        }
        assert!(kinds.iter().all(|&k| k > 100), "{kinds:?}");
    }

    #[test]
    fn a_reopened_id_is_one_resolved_before() {
        let mut t = Traffic::new(StdRng::seed_from_u64(1), 10);
        let mut resolved = std::collections::HashSet::new();
        let mut reopened = 0;
        for _ in 0..5_000 {
            match t.next_op() {
                Op::Resolve { id } => {
                    resolved.insert(id);
                }
                Op::Open { id, .. } if resolved.contains(&id) && !id.contains("flap") => {
                    reopened += 1;
                }
                _ => {}
            }
        }
        assert!(reopened > 0);
    }
}
