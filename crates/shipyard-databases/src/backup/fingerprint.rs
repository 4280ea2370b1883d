//! What a backup is proven against: per table, its row count and a SHA-256 over its rows'
//! hashes in primary-key order (or of its rows sorted, where it has no key), read in one
//! snapshot. Both sides are read by the platform's superuser connection of the same server,
//! so a row's text is spelled alike on both (same settings, same types).

use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::postgres::PgConnection;

/// One table's print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TablePrint {
    /// `schema.table`, as PostgreSQL spells them.
    pub table: String,
    /// Its rows.
    pub rows: i64,
    /// SHA-256 over its rows' MD5s in order, hex.
    pub hash: String,
}

/// A database's print: its tables in name order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Fingerprint {
    /// Every table with rows of its own (partitions included, partitioned parents not).
    pub tables: Vec<TablePrint>,
}

impl Fingerprint {
    /// Rows in every table.
    pub fn rows(&self) -> i64 {
        self.tables.iter().map(|t| t.rows).sum()
    }

    /// Why `restored` is not this print, naming the first table that differs; None when equal.
    pub fn differs(&self, restored: &Fingerprint) -> Option<String> {
        for (want, got) in self.tables.iter().zip(&restored.tables) {
            if want.table != got.table {
                return Some(format!(
                    "the restored copy has table {} where the source has {}",
                    got.table, want.table
                ));
            }
            if want.rows != got.rows {
                return Some(format!(
                    "table {} has {} rows in the restored copy, {} in the source",
                    want.table, got.rows, want.rows
                ));
            }
            if want.hash != got.hash {
                return Some(format!(
                    "table {} differs between the restored copy and the source (same {} rows, other contents)",
                    want.table, want.rows
                ));
            }
        }
        match self.tables.len().cmp(&restored.tables.len()) {
            std::cmp::Ordering::Greater => Some(format!(
                "table {} is missing from the restored copy",
                self.tables[restored.tables.len()].table
            )),
            std::cmp::Ordering::Less => Some(format!(
                "the restored copy has table {} the source does not",
                restored.tables[self.tables.len()].table
            )),
            std::cmp::Ordering::Equal => None,
        }
    }
}

/// The most tables a fingerprint covers: each is a line the backup's row keeps.
const MAX_TABLES: usize = 50_000;

/// An identifier quoted for SQL.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Reads the print of the database `conn` is connected to, in its current transaction.
pub async fn read(conn: &mut PgConnection) -> Result<Fingerprint, sqlx::Error> {
    let tables: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT n.nspname::text, c.relname::text, c.oid::int8 FROM pg_catalog.pg_class c \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind = 'r' AND c.relpersistence <> 't' AND n.nspname <> 'information_schema' \
         AND n.nspname !~ '^pg_' ORDER BY n.nspname COLLATE \"C\", c.relname COLLATE \"C\"",
    )
    .fetch_all(&mut *conn)
    .await?;
    if tables.len() > MAX_TABLES {
        return Err(sqlx::Error::Protocol(format!(
            "the database has {} tables; a backup proves at most {MAX_TABLES}",
            tables.len()
        )));
    }
    let mut prints = Vec::with_capacity(tables.len());
    for (schema, table, oid) in tables {
        let key: Vec<String> = sqlx::query_scalar(
            "SELECT a.attname::text FROM pg_catalog.pg_index i \
             JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) \
             WHERE i.indrelid = $1::oid AND i.indisprimary \
             ORDER BY pg_catalog.array_position(i.indkey::int2[], a.attnum)",
        )
        .bind(oid)
        .fetch_all(&mut *conn)
        .await?;
        let order = if key.is_empty() {
            "pg_catalog.md5(ROW(t.*)::pg_catalog.text) COLLATE \"C\"".to_owned()
        } else {
            key.iter()
                .map(|k| format!("t.{}", quoted(k)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let name = format!("{}.{}", quoted(&schema), quoted(&table));
        // Names are quoted above; no value of the tenant's is ever part of the text.
        // `ROW(t.*)` is an anonymous record: no cast of the tenant's can stand in for its text
        // (a table's own row type could have one), and a column named `t` cannot shadow it.
        let sql = format!("SELECT pg_catalog.md5(ROW(t.*)::pg_catalog.text) FROM ONLY {name} t ORDER BY {order}");
        let mut rows = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql)).fetch(&mut *conn);
        let (mut count, mut hash) = (0i64, Sha256::new());
        while let Some(row) = rows.try_next().await? {
            hash.update(row.as_bytes());
            count += 1;
        }
        drop(rows);
        prints.push(TablePrint {
            table: format!("{schema}.{table}"),
            rows: count,
            hash: hex::encode(hash.finalize()),
        });
    }
    Ok(Fingerprint { tables: prints })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn print(tables: &[(&str, i64, &str)]) -> Fingerprint {
        Fingerprint {
            tables: tables
                .iter()
                .map(|(t, rows, hash)| TablePrint {
                    table: (*t).to_owned(),
                    rows: *rows,
                    hash: (*hash).to_owned(),
                })
                .collect(),
        }
    }

    #[test]
    fn the_first_table_that_differs_is_named() {
        let source = print(&[("public.a", 2, "x"), ("public.b", 3, "y")]);
        assert_eq!(source.differs(&source.clone()), None);
        assert_eq!(source.rows(), 5);
        let fewer = print(&[("public.a", 2, "x"), ("public.b", 2, "y")]);
        assert!(
            source
                .differs(&fewer)
                .is_some_and(|s| s.contains("public.b has 2 rows"))
        );
        let other = print(&[("public.a", 2, "z"), ("public.b", 3, "q")]);
        assert!(
            source
                .differs(&other)
                .is_some_and(|s| s.starts_with("table public.a differs"))
        );
        let missing = print(&[("public.a", 2, "x")]);
        assert!(
            source
                .differs(&missing)
                .is_some_and(|s| s.contains("public.b is missing"))
        );
        assert!(
            missing
                .differs(&source)
                .is_some_and(|s| s.contains("public.b the source does not"))
        );
    }
}
