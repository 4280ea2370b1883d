//! One environment's route, from its row: where its release's files are and whether it may
//! serve at all (a paused project or a suspended workspace answers 503 saying so).

use crate::Runtime;
use shipyard_core::{ProjectStatus, ProjectType, RuntimeType};
use shipyard_edge::{Site, Target, Upstreams};
use shipyard_store::LiveRoute;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The hosts of `row` (its live host, then its verified custom domains) and what answers them;
/// None when nothing is live there (no release yet), which the edge answers with its 404 page
/// on the live host and 421 on a custom domain. `current` is what the live host has now: kept
/// when unchanged.
pub(crate) fn target(
    runtime: &Runtime,
    row: &LiveRoute,
    current: Option<&Arc<Target>>,
) -> Option<(Vec<String>, Arc<Target>)> {
    let mut hosts = vec![runtime.host(&row.host_label, &row.workspace_slug)];
    hosts.extend(row.domains.iter().cloned());
    let target = one_target(runtime, row, current)?;
    Some((hosts, target))
}

/// What answers `row`'s hosts.
fn one_target(runtime: &Runtime, row: &LiveRoute, current: Option<&Arc<Target>>) -> Option<Arc<Target>> {
    let (release, config) = row.release.as_ref()?;
    let environment = row.environment_id.to_string();
    let unavailable = |why: &str| {
        let target = Target::Unavailable {
            environment: environment.clone(),
            why: why.to_owned(),
        };
        Some(Arc::new(target))
    };
    if row.suspended {
        return unavailable("This app's workspace is suspended by the platform's administrators.");
    }
    match row.status {
        ProjectStatus::Active => {}
        ProjectStatus::Paused => {
            return unavailable(
                "This app is paused. Its owner can resume it by setting the project's status to active.",
            );
        }
        ProjectStatus::Archived => return unavailable("This app is archived."),
    }
    if let Some(current) = current
        && let Target::Static { release: serving, .. } = current.as_ref()
        && serving == release.as_str()
    {
        return Some(current.clone());
    }
    if config.runtime.runtime_type != RuntimeType::Static {
        return match runtime.instances(release.as_str()) {
            Some(instances) => Some(Arc::new(Target::Proxy {
                environment,
                release: release.to_string(),
                upstreams: Upstreams::new(instances.upstreams()),
            })),
            None => unavailable("This app's instances are not running."),
        };
    }
    let build = &config.build;
    let mut sub = Path::new(&build.root_directory).join(build.output_directory.as_deref().unwrap_or(""));
    if sub.as_os_str().is_empty() {
        sub = PathBuf::from(".");
    }
    let artifact = shipyard_build::ArtifactStore::of(&runtime.workspaces, row.tenant_id.as_str()).path(release);
    // The directories are the tenant's: reached without leaving the artifact (links inside it
    // are fine, as the release's own check allows them), or not served at all.
    let site = shipyard_sandbox::files::open_dir_served(&artifact, &sub)
        .map(|root| Site::new(root, row.project_type == ProjectType::React))
        .map_err(|e| e.to_string());
    match site {
        Ok(site) => Some(Arc::new(Target::Static {
            environment,
            release: release.to_string(),
            site,
        })),
        Err(e) => {
            tracing::error!(%release, error = %e, "a release's files cannot be served");
            unavailable("This release's files cannot be served; deploy again or roll back.")
        }
    }
}
