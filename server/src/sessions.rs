//! Sessions live in the database under a hash of their id. The id is what the cookie carries, a
//! credential as good as a password for as long as the session lasts, so whoever reads the
//! database file (a backup, another local user) must not find ids there to sign in with: the table
//! keeps SHA-256 of the id, and only the browser has the id itself.

use sha2::{Digest, Sha256};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{ExpiredDeletion, Result, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// The `sessions` table (made by the engine's migrations) in whichever database the engine uses,
/// so that on PostgreSQL every replica sees every session.
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Store {
    pub fn new(db: &engine::db::Pool) -> std::result::Result<Store, String> {
        Ok(match db {
            engine::db::Pool::Sqlite(p) => {
                Store::Sqlite(SqliteStore::new(p.clone()).with_table_name("sessions")?)
            }
            engine::db::Pool::Postgres(p) => Store::Postgres(
                PostgresStore::new(p.clone())
                    .with_schema_name("public")?
                    .with_table_name("sessions")?,
            ),
        })
    }
}

#[async_trait::async_trait]
impl SessionStore for Store {
    async fn create(&self, record: &mut Record) -> Result<()> {
        match self {
            Store::Sqlite(s) => s.create(record).await,
            Store::Postgres(s) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> Result<()> {
        match self {
            Store::Sqlite(s) => s.save(record).await,
            Store::Postgres(s) => s.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        match self {
            Store::Sqlite(s) => s.load(id).await,
            Store::Postgres(s) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        match self {
            Store::Sqlite(s) => s.delete(id).await,
            Store::Postgres(s) => s.delete(id).await,
        }
    }
}

#[async_trait::async_trait]
impl ExpiredDeletion for Store {
    async fn delete_expired(&self) -> Result<()> {
        match self {
            Store::Sqlite(s) => s.delete_expired().await,
            Store::Postgres(s) => s.delete_expired().await,
        }
    }
}

/// Wraps a store so that it only ever sees hashed ids.
#[derive(Clone, Debug)]
pub struct HashedIds<S>(pub S);

fn hashed(id: &Id) -> Id {
    let digest = Sha256::digest(id.0.to_le_bytes());
    let mut first = [0u8; 16];
    first.copy_from_slice(&digest[..16]);
    Id(i128::from_le_bytes(first))
}

fn with_id(record: &Record, id: Id) -> Record {
    Record {
        id,
        data: record.data.clone(),
        expiry_date: record.expiry_date,
    }
}

#[async_trait::async_trait]
impl<S: SessionStore + Clone> SessionStore for HashedIds<S> {
    async fn create(&self, record: &mut Record) -> Result<()> {
        // A new random id until its hash is free: the inner store's own retry would change the
        // hashed id behind our back, and the cookie's id would no longer lead to the row.
        while self.0.load(&hashed(&record.id)).await?.is_some() {
            record.id = Id::default();
        }
        self.0.save(&with_id(record, hashed(&record.id))).await
    }

    async fn save(&self, record: &Record) -> Result<()> {
        self.0.save(&with_id(record, hashed(&record.id))).await
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        Ok(self
            .0
            .load(&hashed(id))
            .await?
            .map(|record| with_id(&record, *id)))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        self.0.delete(&hashed(id)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_sessions::MemoryStore;

    #[tokio::test]
    async fn the_inner_store_never_sees_the_cookie_id() {
        let inner = MemoryStore::default();
        let store = HashedIds(inner.clone());
        let mut record = Record {
            id: Id::default(),
            data: Default::default(),
            expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
        };
        store.create(&mut record).await.unwrap();
        assert!(inner.load(&record.id).await.unwrap().is_none());
        assert!(inner.load(&hashed(&record.id)).await.unwrap().is_some());
        let loaded = store.load(&record.id).await.unwrap().unwrap();
        assert_eq!(loaded.id, record.id);
        store.delete(&record.id).await.unwrap();
        assert!(inner.load(&hashed(&record.id)).await.unwrap().is_none());
    }
}
