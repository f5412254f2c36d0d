//! Sign-in throttling, per account and per client address (Entra's "smart lockout" idea).
//!
//! After `max_failures` consecutive failures a key is locked for `lockout`, doubling with every
//! further failure up to `max_lockout`. While locked, every attempt is refused, even one with the
//! right password, and refused attempts do not extend the lock. Failures are forgotten after
//! `forget_after` without one. Time is passed in, so the rules are tested without waiting.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

#[derive(Clone, Copy, Debug)]
pub struct Policy {
    pub max_failures: u32,
    pub lockout: Duration,
    pub max_lockout: Duration,
    pub forget_after: Duration,
}

impl Policy {
    /// Per account: the sixth attempt after five wrong passwords is refused.
    pub const ACCOUNT: Policy = Policy {
        max_failures: 5,
        lockout: Duration::from_secs(60),
        max_lockout: Duration::from_secs(15 * 60),
        forget_after: Duration::from_secs(15 * 60),
    };
    /// Per client address: generous enough for a shared office address, tight enough to stop a
    /// password spray across accounts.
    pub const CLIENT: Policy = Policy {
        max_failures: 20,
        lockout: Duration::from_secs(60),
        max_lockout: Duration::from_secs(15 * 60),
        forget_after: Duration::from_secs(15 * 60),
    };
}

#[derive(Clone, Copy, Debug)]
struct Failures {
    count: u32,
    last: Instant,
}

impl Failures {
    fn locked_until(&self, policy: &Policy) -> Option<Instant> {
        let over = self.count.checked_sub(policy.max_failures)?;
        let lock = policy
            .lockout
            .saturating_mul(1 << over.min(16))
            .min(policy.max_lockout);
        Some(self.last + lock)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Client(IpAddr),
}

pub struct SignInThrottle {
    account: Policy,
    client: Policy,
    failures: Mutex<HashMap<Key, Failures>>,
}

impl Default for SignInThrottle {
    fn default() -> Self {
        SignInThrottle::new(Policy::ACCOUNT, Policy::CLIENT)
    }
}

impl SignInThrottle {
    pub fn new(account: Policy, client: Policy) -> Self {
        SignInThrottle {
            account,
            client,
            failures: Mutex::default(),
        }
    }

    /// `Err(retry_after)` while the account or the client is locked.
    pub fn check(
        &self,
        now: Instant,
        account: &str,
        client: Option<IpAddr>,
    ) -> Result<(), Duration> {
        let failures = self.lock();
        self.keys(account, client)
            .filter_map(|(key, policy)| Some((failures.get(&key)?.locked_until(policy)?, policy)))
            .filter_map(|(until, _)| until.checked_duration_since(now).filter(|d| !d.is_zero()))
            .max()
            .map_or(Ok(()), Err)
    }

    pub fn record_failure(&self, now: Instant, account: &str, client: Option<IpAddr>) {
        let mut failures = self.lock();
        failures.retain(|key, f| now.duration_since(f.last) < self.policy(key).forget_after);
        for (key, _) in self.keys(account, client) {
            let entry = failures.entry(key).or_insert(Failures {
                count: 0,
                last: now,
            });
            entry.count += 1;
            entry.last = now;
        }
    }

    /// A successful sign-in clears the account's failures; the client's stay, so one valid
    /// account does not reset a spray from the same address.
    pub fn record_success(&self, account: &str) {
        self.lock().remove(&Key::Account(account.to_lowercase()));
    }

    fn keys(&self, account: &str, client: Option<IpAddr>) -> impl Iterator<Item = (Key, &Policy)> {
        let account = (Key::Account(account.to_lowercase()), &self.account);
        let client = client.map(|ip| (Key::Client(ip), &self.client));
        std::iter::once(account).chain(client)
    }

    fn policy(&self, key: &Key) -> &Policy {
        match key {
            Key::Account(_) => &self.account,
            Key::Client(_) => &self.client,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Failures>> {
        // A panic while holding this lock cannot leave the map inconsistent (single inserts).
        self.failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));

    #[test]
    fn five_failures_lock_the_account_for_a_minute() {
        let throttle = SignInThrottle::default();
        let t0 = Instant::now();
        for i in 0..5 {
            assert_eq!(
                throttle.check(t0, "ada@example.com", IP),
                Ok(()),
                "attempt {}",
                i + 1
            );
            throttle.record_failure(t0, "ada@example.com", IP);
        }
        assert_eq!(
            throttle.check(t0, "ADA@example.com", IP),
            Err(Duration::from_secs(60))
        );
        // Another account from the same address is not locked by this one's failures.
        assert_eq!(throttle.check(t0, "grace@example.com", IP), Ok(()));
        let later = t0 + Duration::from_secs(61);
        assert_eq!(throttle.check(later, "ada@example.com", IP), Ok(()));
    }

    #[test]
    fn each_further_failure_doubles_the_lock_up_to_the_cap() {
        let throttle = SignInThrottle::default();
        let t0 = Instant::now();
        for _ in 0..6 {
            throttle.record_failure(t0, "ada@example.com", None);
        }
        assert_eq!(
            throttle.check(t0, "ada@example.com", None),
            Err(Duration::from_secs(120))
        );
        for _ in 0..20 {
            throttle.record_failure(t0, "ada@example.com", None);
        }
        assert_eq!(
            throttle.check(t0, "ada@example.com", None),
            Err(Duration::from_secs(900))
        );
    }

    #[test]
    fn success_clears_the_account_but_not_the_client() {
        let throttle = SignInThrottle::default();
        let t0 = Instant::now();
        for i in 0..20 {
            throttle.record_failure(t0, &format!("user{}@example.com", i % 4), IP);
        }
        throttle.record_success("user0@example.com");
        assert!(
            throttle.check(t0, "someone.else@example.com", IP).is_err(),
            "spray from one address"
        );
        assert_eq!(throttle.check(t0, "someone.else@example.com", None), Ok(()));
    }

    #[test]
    fn failures_are_forgotten_after_a_quiet_period() {
        let throttle = SignInThrottle::default();
        let t0 = Instant::now();
        for _ in 0..4 {
            throttle.record_failure(t0, "ada@example.com", None);
        }
        let later = t0 + Duration::from_secs(16 * 60);
        throttle.record_failure(later, "ada@example.com", None);
        assert_eq!(
            throttle.check(later, "ada@example.com", None),
            Ok(()),
            "old failures forgotten"
        );
    }
}
