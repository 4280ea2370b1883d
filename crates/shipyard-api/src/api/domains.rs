//! Custom domains: a user's own hostname for an environment, proven by a TXT record through a
//! real resolver, served by the edge once verified, with the reason it is not live when not.

use crate::auth::{Auth, require_write};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, JsonBody};
use crate::paging::{List, PageQuery};
use crate::paths::{DomainPath, ProjectPath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use shipyard_api_types::domains::{
    CertificateStatus, CreateDomainRequest, DomainCertificate, DomainDns, DomainView, RecordKind, Verification,
};
use shipyard_core::custom_domain::{CustomHostname, DomainStatus, challenge_name};
use shipyard_core::{DomainId, EnvironmentId, OpaqueToken, Role};
use shipyard_domains::{expected_records, next_check, proof_gone};
use shipyard_runtime::RouteLock;
use shipyard_store::{
    Backend, Certificate, Certificates, Domain, Domains, Environment, Environments, NewDomain, SqliteStore, StoreError,
    TenantScope, Tx,
};

/// Domains one workspace may have: each is looked at in the background, so a stranger may
/// not add them without end.
pub const MAX_DOMAINS_PER_WORKSPACE: i64 = 200;
/// When to try a verify again that found every DNS look slot taken.
const LOOKS_BUSY_RETRY_SECS: u64 = 5;

/// Where `d`'s HTTPS certificate stands, from its hostname's row `row` (None: the server has
/// no HTTPS listener).
fn certificate_view(state: &AppState, d: &Domain, row: Option<&Certificate>) -> Option<DomainCertificate> {
    state.acme.as_ref()?;
    let serving = row
        .and_then(|r| r.issued.as_ref())
        .filter(|issued| issued.not_after > chrono::Utc::now());
    let last_error = row.and_then(|r| r.error.clone());
    let (status, error) = if d.status != DomainStatus::Verified {
        (
            CertificateStatus::None,
            Some("ordered once the domain is verified".to_owned()),
        )
    } else if serving.is_some() {
        (CertificateStatus::Issued, last_error)
    } else if last_error.is_some() {
        (CertificateStatus::Failed, last_error)
    } else if !d.dns.points_here {
        let why = "waiting for DNS to point here (dns.pointsHere is false): nothing is ordered before, so no failed validation spends the CA's allowance";
        (CertificateStatus::Pending, Some(why.to_owned()))
    } else {
        (CertificateStatus::Pending, None)
    };
    Some(DomainCertificate {
        status,
        not_after: serving.map(|issued| issued.not_after),
        error,
    })
}

/// A domain as shown; `env` is the environment it serves, `cert` its hostname's certificate row.
fn domain_view(
    state: &AppState,
    scope: &TenantScope,
    env: Option<&Environment>,
    d: Domain,
    cert: Option<&Certificate>,
) -> DomainView {
    let certificate = certificate_view(state, &d, cert);
    let expected = env.map_or_else(Vec::new, |env| {
        let live = state.runtime.host(&env.host_label, scope.tenant_slug().as_str());
        expected_records(&d.hostname, &live, &state.domains.public)
    });
    DomainView {
        verification: Verification {
            kind: RecordKind::Txt,
            name: challenge_name(&d.hostname),
            value: d.challenge,
        },
        hostname_unicode: shipyard_core::custom_domain::to_unicode(&d.hostname),
        id: d.id.to_string(),
        hostname: d.hostname,
        project_id: d.project_id.to_string(),
        environment_id: d.environment_id.to_string(),
        status: d.status,
        error: d.error,
        dns: DomainDns {
            expected,
            observed: d.dns.observed,
            points_here: d.dns.points_here,
            checked_at: d.dns.checked_at,
            error: d.dns.error,
        },
        created_at: d.created_at,
        verified_at: d.verified_at,
        certificate,
    }
}

/// The environment `id` among `envs`.
fn env_of<'a>(envs: &'a [Environment], id: &EnvironmentId) -> Option<&'a Environment> {
    envs.iter().find(|e| e.id == *id)
}

/// The project's custom domains, oldest first.
#[utoipa::path(get, path = "/tenants/{tenantId}/projects/{projectId}/domains", tag = "domains",
    params(ProjectPath, PageQuery), security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = List<DomainView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 404, body = ErrorBody)))]
pub async fn list_domains(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<ProjectPath>,
    ApiQuery(paging): ApiQuery<PageQuery>,
) -> ApiResult<Json<List<DomainView>>> {
    let mut tx = state.store.read().await?;
    let (scope, project) = path.load(&auth, &mut tx).await?;
    let page = paging.page()?;
    // A workspace has at most MAX_DOMAINS_PER_WORKSPACE: read whole, paged here.
    let all = tx.list_domains(&scope, &project.id).await?;
    let envs = tx.environments(&scope, &project.id).await?;
    let total = all.len() as i64;
    let skip = usize::try_from(page.offset()).unwrap_or(usize::MAX);
    let mut items = Vec::new();
    for d in all.into_iter().skip(skip).take(page.per_page as usize) {
        let env = env_of(&envs, &d.environment_id).cloned();
        let cert = tx.certificate(&d.hostname).await?;
        items.push(domain_view(&state, &scope, env.as_ref(), d, cert.as_ref()));
    }
    Ok(Json(List {
        items,
        page: page.page,
        per_page: page.per_page,
        total,
    }))
}

/// Adds a hostname to an environment (production unless `environmentId` says otherwise); it is
/// served once a TXT record proves it is the caller's.
#[utoipa::path(post, path = "/tenants/{tenantId}/projects/{projectId}/domains", tag = "domains",
    request_body = CreateDomainRequest, params(ProjectPath), security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = DomainView), (status = 400, description = "A hostname rule broken", body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 409, description = "The project has the hostname, or the workspace as many domains as it may", body = ErrorBody),
    (status = 422, body = ErrorBody)))]
pub async fn create_domain(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<ProjectPath>,
    body: JsonBody,
) -> ApiResult<(StatusCode, Json<DomainView>)> {
    let mut tx = state.store.write().await?;
    let (scope, project) = path.load(&auth, &mut tx).await?;
    require_write(&scope, Role::Member)?;
    let req: CreateDomainRequest = body.parse()?;
    let hostname = CustomHostname::parse(
        &req.hostname,
        &state.settings.platform_host,
        &state.settings.apps_domain,
    )
    .map_err(|e| ApiError::bad_request(format!("field `hostname`: {e}")))?;
    let envs = tx.environments(&scope, &project.id).await?;
    let env = match req.environment_id.as_deref() {
        Some(raw) => EnvironmentId::parse(raw)
            .ok()
            .and_then(|id| env_of(&envs, &id))
            .ok_or_else(|| {
                ApiError::unprocessable(format!(
                    "field `environmentId`: no environment {raw} in project {}",
                    project.id
                ))
            })?,
        None => envs
            .iter()
            .find(|e| e.is_production)
            .ok_or_else(|| ApiError::conflict("the project has no production environment"))?,
    };
    if tx.count_domains(&scope).await? >= MAX_DOMAINS_PER_WORKSPACE {
        return Err(ApiError::conflict(format!(
            "the workspace has {MAX_DOMAINS_PER_WORKSPACE} domains, the most one may have; remove one first"
        )));
    }
    let new = NewDomain {
        id: DomainId::generate(),
        project_id: project.id.clone(),
        environment_id: env.id.clone(),
        hostname: hostname.ascii().to_owned(),
        challenge: OpaqueToken::generate("shipyard-").plain,
    };
    let domain = tx.create_domain(&scope, &new).await?;
    let env = env.clone();
    SqliteStore::commit(tx).await?;
    // Its records are looked at once now, so the reason it is not live shows without a verify.
    state.domains.wake.notify_one();
    Ok((
        StatusCode::CREATED,
        Json(domain_view(&state, &scope, Some(&env), domain, None)),
    ))
}

/// Looks the TXT record up now: `verified`, or `failed` saying what the resolver saw (call it
/// again once DNS is right). Also refreshes where the hostname points.
#[utoipa::path(post, path = "/tenants/{tenantId}/projects/{projectId}/domains/{domainId}/verify", tag = "domains",
    params(DomainPath), security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = DomainView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody),
    (status = 409, description = "Another project has verified the hostname", body = ErrorBody),
    (status = 429, description = "Too many DNS looks in flight on the server", body = ErrorBody)))]
pub async fn create_domain_verify(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<DomainPath>,
) -> ApiResult<Json<DomainView>> {
    let mut tx = state.store.read().await?;
    let (scope, project, domain) = path.load(&auth, &mut tx).await?;
    require_write(&scope, Role::Member)?;
    let envs = tx.environments(&scope, &project.id).await?;
    drop(tx);
    let env = env_of(&envs, &domain.environment_id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("domain {} not found", path.domain_id)))?;
    let live = state.runtime.host(&env.host_label, scope.tenant_slug().as_str());
    let look = state
        .domains
        .try_look(&domain.hostname, &domain.challenge, &live)
        .await
        .ok_or_else(|| {
            ApiError::too_many_requests(
                "the server is busy asking DNS about other domains; verify again in a few seconds",
                LOOKS_BUSY_RETRY_SECS,
            )
        })?;
    // Only a domain becoming verified changes what the edge serves (a failed look never
    // unverifies): only then is the route lock taken.
    let routes = matches!(look.proof, Ok(())) && domain.status != DomainStatus::Verified;
    let lock = if routes { Some(state.runtime.lock().await) } else { None };
    let mut tx = state.store.write().await?;
    let gone = || ApiError::not_found(format!("domain {} not found", path.domain_id));
    let next = next_check(chrono::Utc::now(), domain.created_at, look.dns.points_here);
    tx.record_dns(&domain.id, &look.dns, next).await?;
    let updated = match &look.proof {
        Ok(()) => match tx.verify_domain(&scope, &domain.id).await {
            Err(StoreError::Conflict(_)) => {
                // What was seen is kept; only the verify is refused.
                SqliteStore::commit(tx).await?;
                return Err(ApiError::conflict(format!(
                    "{} is verified already by another project (in this workspace or another); a hostname serves one environment",
                    domain.hostname
                )));
            }
            other => other?,
        },
        // A verified domain stays verified for a grace while its record is gone.
        Err(why) if domain.status == DomainStatus::Verified => {
            let since = domain.proof_missing_since.unwrap_or_else(chrono::Utc::now);
            tx.record_proof(&domain.id, Some(&proof_gone(why, since)), chrono::Utc::now())
                .await?
        }
        Err(why) => tx.fail_domain(&scope, &domain.id, why).await?,
    }
    .ok_or_else(gone)?;
    match lock {
        Some(mut lock) => {
            lock.route_environment(&mut tx, &env.id).await?;
            commit_routed(&state, lock, tx).await?;
        }
        None => SqliteStore::commit(tx).await?,
    }
    // A domain verified just now is due for its certificate at once, and so is one whose last
    // order failed if its records changed (its owner fixed them); verifying again with nothing
    // changed does not skip the back-off, so it cannot be used to spend the CA's allowance.
    let fixed = domain.status != DomainStatus::Verified || domain.dns.observed != look.dns.observed;
    if let Some(acme) = state
        .acme
        .as_ref()
        .filter(|_| updated.status == DomainStatus::Verified && fixed)
    {
        acme.retry(&updated.hostname).await?;
    }
    let cert = state.store.read().await?.certificate(&updated.hostname).await?;
    Ok(Json(domain_view(&state, &scope, Some(&env), updated, cert.as_ref())))
}

/// Removes a domain; the edge stops serving it at once.
#[utoipa::path(delete, path = "/tenants/{tenantId}/projects/{projectId}/domains/{domainId}", tag = "domains",
    params(DomainPath), security(("bearer" = []), ("session" = [])),
    responses((status = 204, description = "Removed"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody)))]
pub async fn delete_domain(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<DomainPath>,
) -> ApiResult<StatusCode> {
    // Who may delete is settled before the route lock, which every go-live waits on.
    let mut tx = state.store.read().await?;
    let (scope, _, domain) = path.load(&auth, &mut tx).await?;
    require_write(&scope, Role::Member)?;
    drop(tx);
    let mut lock = state.runtime.lock().await;
    let mut tx = state.store.write().await?;
    if !tx.delete_domain(&scope, &domain.id).await? {
        return Err(ApiError::not_found(format!("domain {} not found", path.domain_id)));
    }
    lock.route_environment(&mut tx, &domain.environment_id).await?;
    commit_routed(&state, lock, tx).await?;
    // Its certificate is no longer presented from the issuer's next pass, at once.
    if let Some(acme) = &state.acme {
        acme.wake();
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Commits `tx`, whose routes `lock` set: they stay; if the commit fails, the table is
/// rebuilt from what the store has.
async fn commit_routed(state: &AppState, lock: RouteLock<'_>, tx: Tx) -> ApiResult<()> {
    if let Err(e) = SqliteStore::commit(tx).await {
        drop(lock);
        state.runtime.resync(&state.store).await;
        return Err(e.into());
    }
    lock.committed();
    Ok(())
}
