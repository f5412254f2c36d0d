//! Sign-in throttling, per account and per client address (Entra's "smart lockout" idea).
//!
//! After `max_failures` consecutive failures a key is locked for `lockout`, doubling with every
//! further failure up to `max_lockout`. While locked, every attempt is refused, even one with the
//! right password, and refused attempts do not extend the lock. Failures are forgotten after
//! `forget_after` without one. The counts live in the database (`sign_in_failures`), so every
//! console process sharing it locks out alike. Time is passed in, so the rules are tested
//! without waiting.

use std::{net::IpAddr, time::Duration};

use time::OffsetDateTime;

use crate::{Result, db};

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

    /// When failures that ended at `last` stop locking, if they lock at all.
    fn locked_until(&self, count: i64, last: OffsetDateTime) -> Option<OffsetDateTime> {
        let over = u32::try_from(count).ok()?.checked_sub(self.max_failures)?;
        let lock = self
            .lockout
            .saturating_mul(1 << over.min(16))
            .min(self.max_lockout);
        Some(last + lock)
    }
}

pub struct SignInThrottle {
    account: Policy,
    client: Policy,
}

impl Default for SignInThrottle {
    fn default() -> Self {
        SignInThrottle::new(Policy::ACCOUNT, Policy::CLIENT)
    }
}

impl SignInThrottle {
    pub fn new(account: Policy, client: Policy) -> Self {
        SignInThrottle { account, client }
    }

    /// `Err(retry_after)` while the account or the client is locked.
    pub async fn check(
        &self,
        db: &db::Pool,
        now: OffsetDateTime,
        account: &str,
        client: Option<IpAddr>,
    ) -> Result<std::result::Result<(), Duration>> {
        let keys: Vec<(String, &Policy)> = self.keys(account, client).collect();
        let stored: Vec<(String, i64, OffsetDateTime)> = db::query_as(
            "SELECT key, failures, last_failure FROM sign_in_failures WHERE key IN (?, ?)",
        )
        .bind(&keys[0].0)
        .bind(keys.get(1).map(|(key, _)| key))
        .fetch_all(db)
        .await?;
        let longest = stored
            .into_iter()
            .filter_map(|(key, count, last)| {
                let (_, policy) = keys.iter().find(|(k, _)| *k == key)?;
                Duration::try_from(policy.locked_until(count, last)? - now).ok()
            })
            .max()
            .unwrap_or_default();
        Ok(if longest.is_zero() {
            Ok(())
        } else {
            Err(longest)
        })
    }

    /// Counts a failure against the account and the client; a count whose last failure is
    /// older than `forget_after` starts again at one.
    pub async fn record_failure(
        &self,
        db: &db::Pool,
        now: OffsetDateTime,
        account: &str,
        client: Option<IpAddr>,
    ) -> Result<()> {
        let mut tx = db::begin_write(db).await?;
        for (key, policy) in self.keys(account, client) {
            db::query(
                "INSERT INTO sign_in_failures (key, failures, last_failure) VALUES (?, 1, ?) \
                 ON CONFLICT (key) DO UPDATE SET last_failure = excluded.last_failure, failures = \
                 CASE WHEN sign_in_failures.last_failure < ? THEN 1 ELSE sign_in_failures.failures + 1 END",
            )
            .bind(&key)
            .bind(now)
            .bind(now - policy.forget_after)
            .execute(&mut tx)
            .await?;
        }
        let forget_after = self.account.forget_after.max(self.client.forget_after);
        db::query("DELETE FROM sign_in_failures WHERE last_failure < ?")
            .bind(now - forget_after)
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A successful sign-in clears the account's failures; the client's stay, so one valid
    /// account does not reset a spray from the same address.
    pub async fn record_success(&self, db: &db::Pool, account: &str) -> Result<()> {
        db::query("DELETE FROM sign_in_failures WHERE key = ?")
            .bind(account_key(account))
            .execute(db)
            .await?;
        Ok(())
    }

    fn keys(
        &self,
        account: &str,
        client: Option<IpAddr>,
    ) -> impl Iterator<Item = (String, &Policy)> {
        let account = (account_key(account), &self.account);
        let client = client.map(|ip| (format!("client:{ip}"), &self.client));
        std::iter::once(account).chain(client)
    }
}

fn account_key(account: &str) -> String {
    format!("account:{}", account.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));

    async fn database() -> (tempfile::TempDir, db::Pool) {
        let dir = tempfile::tempdir().unwrap();
        let pool = db::open(dir.path(), None).await.unwrap();
        (dir, pool)
    }

    #[tokio::test]
    async fn five_failures_lock_the_account_for_a_minute() {
        let (_dir, db) = database().await;
        let throttle = SignInThrottle::default();
        let t0 = OffsetDateTime::now_utc();
        for i in 0..5 {
            assert_eq!(
                throttle
                    .check(&db, t0, "ada@example.com", IP)
                    .await
                    .unwrap(),
                Ok(()),
                "attempt {}",
                i + 1
            );
            throttle
                .record_failure(&db, t0, "ada@example.com", IP)
                .await
                .unwrap();
        }
        assert_eq!(
            throttle
                .check(&db, t0, "ADA@example.com", IP)
                .await
                .unwrap(),
            Err(Duration::from_secs(60))
        );
        // Another account from the same address is not locked by this one's failures.
        assert_eq!(
            throttle
                .check(&db, t0, "grace@example.com", IP)
                .await
                .unwrap(),
            Ok(())
        );
        let later = t0 + Duration::from_secs(61);
        assert_eq!(
            throttle
                .check(&db, later, "ada@example.com", IP)
                .await
                .unwrap(),
            Ok(())
        );
    }

    #[tokio::test]
    async fn each_further_failure_doubles_the_lock_up_to_the_cap() {
        let (_dir, db) = database().await;
        let throttle = SignInThrottle::default();
        let t0 = OffsetDateTime::now_utc();
        for _ in 0..6 {
            throttle
                .record_failure(&db, t0, "ada@example.com", None)
                .await
                .unwrap();
        }
        assert_eq!(
            throttle
                .check(&db, t0, "ada@example.com", None)
                .await
                .unwrap(),
            Err(Duration::from_secs(120))
        );
        for _ in 0..20 {
            throttle
                .record_failure(&db, t0, "ada@example.com", None)
                .await
                .unwrap();
        }
        assert_eq!(
            throttle
                .check(&db, t0, "ada@example.com", None)
                .await
                .unwrap(),
            Err(Duration::from_secs(900))
        );
    }

    #[tokio::test]
    async fn success_clears_the_account_but_not_the_client() {
        let (_dir, db) = database().await;
        let throttle = SignInThrottle::default();
        let t0 = OffsetDateTime::now_utc();
        for i in 0..20 {
            throttle
                .record_failure(&db, t0, &format!("user{}@example.com", i % 4), IP)
                .await
                .unwrap();
        }
        throttle
            .record_success(&db, "user0@example.com")
            .await
            .unwrap();
        assert!(
            throttle
                .check(&db, t0, "someone.else@example.com", IP)
                .await
                .unwrap()
                .is_err(),
            "spray from one address"
        );
        assert_eq!(
            throttle
                .check(&db, t0, "someone.else@example.com", None)
                .await
                .unwrap(),
            Ok(())
        );
    }

    #[tokio::test]
    async fn failures_are_forgotten_after_a_quiet_period() {
        let (_dir, db) = database().await;
        let throttle = SignInThrottle::default();
        let t0 = OffsetDateTime::now_utc();
        for _ in 0..4 {
            throttle
                .record_failure(&db, t0, "ada@example.com", None)
                .await
                .unwrap();
        }
        let later = t0 + Duration::from_secs(16 * 60);
        throttle
            .record_failure(&db, later, "ada@example.com", None)
            .await
            .unwrap();
        assert_eq!(
            throttle
                .check(&db, later, "ada@example.com", None)
                .await
                .unwrap(),
            Ok(()),
            "old failures forgotten"
        );
    }
}
