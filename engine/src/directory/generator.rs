//! A reproducible fake directory for load tests and demos: N users with realistic names
//! (diacritics included), departments, managers and a share with no surname or mail, and M groups
//! with members. The same seed gives the same directory. Rows go in by batches in one
//! transaction, with their change-feed entries, and one audit entry for the lot.

use std::time::Instant;

use crate::db::QueryBuilder;
use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    Engine, Result,
    audit::{self, Caller, Target},
};

pub(crate) const GIVEN: &[&str] = &[
    "Zoë",
    "José",
    "Åsa",
    "Björn",
    "Renée",
    "François",
    "Łukasz",
    "Chloé",
    "Mónica",
    "Søren",
    "Ingrid",
    "Nuño",
    "Jürgen",
    "Anaïs",
    "Kenji",
    "Amélie",
    "Oğuz",
    "Siobhán",
    "Émile",
    "Hélène",
    "Jonas",
    "Aino",
    "Leïla",
    "Rafael",
    "Noémie",
    "Ada",
    "Grace",
    "Alan",
    "Katherine",
    "Margaret",
];
pub(crate) const FAMILY: &[&str] = &[
    "Müller",
    "García",
    "Núñez",
    "Østergaard",
    "Dvořák",
    "Łęcki",
    "Ångström",
    "Lefèvre",
    "Kovačević",
    "Şahin",
    "O'Brien",
    "Nguyễn",
    "Jørgensen",
    "Muñoz",
    "Schröder",
    "Björklund",
    "Fernández",
    "Duchêne",
    "Żak",
    "Rossi",
    "Smith",
    "Tanaka",
    "Kowalski",
    "Johansson",
    "Silva",
    "Petit",
    "Novák",
    "Horváth",
    "Popescu",
    "Lovelace",
];
const DEPARTMENTS: &[&str] = &[
    "Engineering",
    "Sales",
    "Marketing",
    "Finance",
    "Human Resources",
    "Legal",
    "Support",
    "Operations",
    "Research",
    "Procurement",
];
pub(crate) const TITLES: &[&str] = &[
    "Analyst",
    "Engineer",
    "Specialist",
    "Manager",
    "Consultant",
    "Coordinator",
    "Director",
];
const LANGUAGES: &[&str] = &[
    "en-US", "fr-FR", "de-DE", "es-ES", "pl-PL", "sv-SE", "ja-JP",
];

/// What to generate.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    pub users: u32,
    pub groups: u32,
    pub seed: u64,
    /// The share of users (0.0 to 1.0) with no surname, and (independently) with no mail.
    pub missing: f64,
}

#[derive(Clone, Copy, Debug)]
pub struct Generated {
    pub users: u64,
    pub groups: u64,
    pub memberships: u64,
    pub seconds: f64,
}

/// ASCII for user names: the letters of this file's names without their accents.
pub(crate) fn ascii(name: &str) -> String {
    name.chars()
        .filter_map(|c| {
            let plain = match c {
                'à'..='å' | 'ả' => 'a',
                'Å' | 'À'..='Ä' => 'a',
                'ç' | 'č' => 'c',
                'è'..='ë' | 'ę' | 'ễ' => 'e',
                'É' => 'e',
                'ì'..='ï' => 'i',
                'ł' | 'Ł' => 'l',
                'ñ' => 'n',
                'ò'..='ö' | 'ø' | 'Ø' => 'o',
                'ř' => 'r',
                'ş' | 'Ş' => 's',
                'ù'..='ü' | 'Ü' => 'u',
                'ğ' => 'g',
                'ż' | 'Ż' => 'z',
                c if c.is_ascii_alphabetic() => c.to_ascii_lowercase(),
                _ => return None,
            };
            Some(plain)
        })
        .collect()
}

impl Engine {
    pub async fn generate_directory(
        &self,
        caller: &Caller,
        spec: Spec,
        domain: &str,
    ) -> Result<Generated> {
        caller.require(crate::accounts::Permission::WriteDirectory)?;
        let started = Instant::now();
        let mut rng = StdRng::seed_from_u64(spec.seed);
        let now = OffsetDateTime::now_utc();
        let mut tx = crate::db::begin_write(&self.db).await?;
        let first_feed: i64 =
            crate::db::query_scalar("SELECT COALESCE(MAX(sequence), 0) FROM change_feed")
                .fetch_one(&mut tx)
                .await?;
        // Rows after these rowids are the ones generated here.
        let users_before: i64 =
            crate::db::query_scalar("SELECT COALESCE(MAX(rowid), 0) FROM users")
                .fetch_one(&mut tx)
                .await?;
        let groups_before: i64 =
            crate::db::query_scalar("SELECT COALESCE(MAX(rowid), 0) FROM groups")
                .fetch_one(&mut tx)
                .await?;

        // One user in twenty manages others; everyone else reports to one of them.
        let managers = (spec.users / 20).max(1) as usize;
        let mut ids = Vec::with_capacity(spec.users as usize);
        for batch_start in (0..spec.users).step_by(500) {
            let batch_end = (batch_start + 500).min(spec.users);
            let mut insert = QueryBuilder::new(
                "INSERT INTO users (id, user_principal_name, display_name, given_name, surname, mail, mail_nickname, \
                 account_enabled, department, job_title, employee_id, manager_id, preferred_language, \
                 telephone_number, created_at, updated_at) ",
            );
            let rows: Vec<_> = (batch_start..batch_end)
                .map(|n| {
                    let given = *GIVEN.choose(&mut rng).unwrap_or(&"Ada");
                    let family = *FAMILY.choose(&mut rng).unwrap_or(&"Lovelace");
                    let nickname = format!("{}.{}{}", ascii(given), ascii(family), n + 1);
                    let id = Uuid::from_u128(rng.r#gen());
                    let manager = (n as usize >= managers).then(|| ids[rng.gen_range(0..managers)]);
                    ids.push(id);
                    let no_surname = rng.gen_bool(spec.missing);
                    let no_mail = rng.gen_bool(spec.missing);
                    (id, given, family, nickname, manager, no_surname, no_mail, n)
                })
                .collect();
            insert.push_values(
                rows,
                |mut row, (id, given, family, nickname, manager, no_surname, no_mail, n)| {
                    let upn = format!("{nickname}@{domain}");
                    row.push_bind(id)
                        .push_bind(upn.clone())
                        .push_bind(if no_surname {
                            given.to_owned()
                        } else {
                            format!("{given} {family}")
                        })
                        .push_bind(given)
                        .push_bind((!no_surname).then_some(family))
                        .push_bind((!no_mail).then_some(upn))
                        .push_bind(nickname)
                        .push_bind(rng.gen_bool(0.97))
                        .push_bind(*DEPARTMENTS.choose(&mut rng).unwrap_or(&"Engineering"))
                        .push_bind(*TITLES.choose(&mut rng).unwrap_or(&"Analyst"))
                        .push_bind(format!("E{:06}", n + 1))
                        .push_bind(manager)
                        .push_bind(*LANGUAGES.choose(&mut rng).unwrap_or(&"en-US"))
                        .push_bind(format!("+1 555 {:04}", rng.gen_range(0..10_000)))
                        .push_bind(now)
                        .push_bind(now);
                },
            );
            insert.build().execute(&mut tx).await?;
        }

        let mut group_ids = Vec::with_capacity(spec.groups as usize);
        let mut memberships = 0u64;
        for batch_start in (0..spec.groups).step_by(500) {
            let batch_end = (batch_start + 500).min(spec.groups);
            let rows: Vec<(Uuid, String)> = (batch_start..batch_end)
                .map(|n| {
                    let department = *DEPARTMENTS.choose(&mut rng).unwrap_or(&"Engineering");
                    (
                        Uuid::from_u128(rng.r#gen()),
                        format!("{department} {}", n + 1),
                    )
                })
                .collect();
            group_ids.extend(rows.iter().map(|(id, _)| *id));
            let mut insert = QueryBuilder::new(
                "INSERT INTO groups (id, display_name, mail_nickname, created_at, updated_at) ",
            );
            insert.push_values(rows, |mut row, (id, name)| {
                let nickname = name.to_lowercase().replace(' ', "-");
                row.push_bind(id)
                    .push_bind(name)
                    .push_bind(nickname)
                    .push_bind(now)
                    .push_bind(now);
            });
            insert.build().execute(&mut tx).await?;
        }
        for group in &group_ids {
            if ids.is_empty() {
                break;
            }
            let size = rng.gen_range(5..=100).min(ids.len());
            let members: Vec<Uuid> = ids.choose_multiple(&mut rng, size).copied().collect();
            memberships += members.len() as u64;
            let mut insert =
                QueryBuilder::new("INSERT INTO group_members (group_id, member_id, member_type) ");
            insert.push_values(members, |mut row, member| {
                row.push_bind(group).push_bind(member).push_bind("User");
            });
            insert.build().execute(&mut tx).await?;
        }

        // The feed records every insert, like any other write would have.
        crate::db::query(
            "INSERT INTO change_feed (sequence, object_type, object_id, change, changed_at) \
             SELECT (SELECT COALESCE(MAX(sequence), 0) FROM change_feed) + ROW_NUMBER() OVER (ORDER BY rowid), \
             'User', id, 'Created', ? FROM users WHERE rowid > ? ORDER BY rowid",
        )
        .bind(now)
        .bind(users_before)
        .execute(&mut tx)
        .await?;
        crate::db::query(
            "INSERT INTO change_feed (sequence, object_type, object_id, change, changed_at) \
             SELECT (SELECT COALESCE(MAX(sequence), 0) FROM change_feed) + ROW_NUMBER() OVER (ORDER BY rowid), \
             'Group', id, 'Created', ? FROM groups WHERE rowid > ? ORDER BY rowid",
        )
        .bind(now)
        .bind(groups_before)
        .execute(&mut tx)
        .await?;
        crate::db::query(
            "INSERT INTO change_feed (sequence, object_type, object_id, change, related_id, changed_at) \
             SELECT (SELECT COALESCE(MAX(sequence), 0) FROM change_feed) \
             + ROW_NUMBER() OVER (ORDER BY g.rowid, m.member_id), 'Group', m.group_id, 'MemberAdded', m.member_id, ? \
             FROM group_members m JOIN groups g ON g.id = m.group_id WHERE g.rowid > ?",
        )
        .bind(now)
        .bind(groups_before)
        .execute(&mut tx)
        .await?;
        let latest: i64 =
            crate::db::query_scalar("SELECT COALESCE(MAX(sequence), 0) FROM change_feed")
                .fetch_one(&mut tx)
                .await?;
        let summary = serde_json::json!({
            "users": spec.users, "groups": spec.groups, "memberships": memberships, "seed": spec.seed,
            "feedEntries": latest - first_feed,
        });
        let target = Target {
            kind: "Directory",
            id: None,
            name: domain,
        };
        audit::record(
            &mut tx,
            caller,
            "Generate directory",
            target,
            None,
            Some(summary),
        )
        .await?;
        tx.commit().await?;
        self.feed.published(latest);
        // A bulk load leaves PostgreSQL's planner without statistics until autovacuum's next
        // ANALYZE, and the first searches after it without their indexes: take them now, as
        // PostgreSQL advises after bulk loads. (SQLite plans without statistics.)
        if matches!(self.db, crate::db::Pool::Postgres(_)) {
            crate::db::query("ANALYZE users, groups, group_members")
                .execute(&self.db)
                .await?;
        }
        Ok(Generated {
            users: u64::from(spec.users),
            groups: u64::from(spec.groups),
            memberships,
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_lose_their_accents() {
        assert_eq!(ascii("Zoë"), "zoe");
        assert_eq!(ascii("Łęcki"), "lecki");
        assert_eq!(ascii("O'Brien"), "obrien");
        assert_eq!(ascii("Ångström"), "angstrom");
        assert_eq!(ascii("Nguyễn"), "nguyen");
        for name in GIVEN.iter().chain(FAMILY) {
            assert!(!ascii(name).is_empty() && ascii(name).is_ascii(), "{name}");
        }
    }
}
