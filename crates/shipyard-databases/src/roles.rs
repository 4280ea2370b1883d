//! The tenant's role and database inside a fresh cluster, made so that making them again
//! (provisioning cut short by a restart) finds them and only sets what must hold.

use crate::error::DatabaseError;
use shipyard_store::Database;
use sqlx::Executor;
use sqlx::postgres::PgConnection;

/// The tenant's role and database: the role owns the database and nothing else, and may not
/// become anything more (no superuser, no roles, no databases, no replication).
pub(crate) async fn create_tenant_role(
    admin: &mut PgConnection,
    db: &Database,
    password: &str,
) -> Result<(), DatabaseError> {
    let fail = |e: sqlx::Error| DatabaseError::step("creating the database's role", e);
    let role = quote_ident(&db.username);
    let name = quote_ident(&db.database_name);
    let limit = crate::conf::max_connections(db.memory_mb).saturating_sub(3);
    let role_exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
        .bind(&db.username)
        .fetch_one(&mut *admin)
        .await
        .map_err(fail)?;
    let database_exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(&db.database_name)
        .fetch_one(&mut *admin)
        .await
        .map_err(fail)?;
    let attributes = format!(
        "LOGIN PASSWORD {} NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION NOBYPASSRLS CONNECTION LIMIT {limit}",
        quote_literal(password)
    );
    let mut statements = vec![if role_exists {
        format!("ALTER ROLE {role} {attributes}")
    } else {
        format!("CREATE ROLE {role} {attributes}")
    }];
    if !database_exists {
        statements.push(format!("CREATE DATABASE {name} OWNER {role}"));
    }
    statements.extend([
        format!("REVOKE ALL ON DATABASE {name} FROM PUBLIC"),
        "REVOKE ALL ON DATABASE postgres FROM PUBLIC".to_owned(),
        "REVOKE ALL ON DATABASE template1 FROM PUBLIC".to_owned(),
    ]);
    for sql in statements {
        admin.execute(sqlx::AssertSqlSafe(sql)).await.map_err(fail)?;
    }
    Ok(())
}

/// Gives login `next` (the owner role itself, or its second login, made here as a member of
/// it that acts as it) `password`, valid from now on, and ends `previous`'s password at
/// `previous_until`. Sessions open now go on; new ones need the new password after that.
pub(crate) async fn rotate_login(
    admin: &mut PgConnection,
    db: &Database,
    next: &str,
    password: &str,
    previous_until: &str,
) -> Result<(), DatabaseError> {
    let fail = |e: sqlx::Error| DatabaseError::step("rotating the password", e);
    let owner = quote_ident(&db.owner_role);
    let login = quote_ident(next);
    let limit = crate::conf::max_connections(db.memory_mb).saturating_sub(3);
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1)")
        .bind(next)
        .fetch_one(&mut *admin)
        .await
        .map_err(fail)?;
    let attributes = format!(
        "LOGIN PASSWORD {} VALID UNTIL 'infinity' NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION NOBYPASSRLS \
         CONNECTION LIMIT {limit}",
        quote_literal(password)
    );
    let mut statements = vec![if exists {
        format!("ALTER ROLE {login} {attributes}")
    } else {
        format!("CREATE ROLE {login} {attributes} IN ROLE {owner}")
    }];
    if next != db.owner_role {
        // Its sessions act as the owner: what they make is the owner's, like the first login's.
        statements.push(format!(
            "ALTER ROLE {login} SET role = {}",
            quote_literal(&db.owner_role)
        ));
    }
    statements.push(format!(
        "ALTER ROLE {} VALID UNTIL {}",
        quote_ident(&db.username),
        quote_literal(previous_until)
    ));
    for sql in statements {
        admin.execute(sqlx::AssertSqlSafe(sql)).await.map_err(fail)?;
    }
    Ok(())
}

/// `"name"`, doubled quotes inside.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'`, doubled quotes inside (standard_conforming_strings is on).
fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}
