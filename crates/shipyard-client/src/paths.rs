//! The one place the API's paths are spelled on the client side: every typed call and every
//! caller that needs a raw path (a stream, a test's probe) builds it here.

/// `/tenants/<t>`.
pub fn tenant(tenant: &str) -> String {
    format!("/tenants/{tenant}")
}

/// `/tenants/<t>/projects`.
pub fn projects(tenant: &str) -> String {
    format!("{}/projects", self::tenant(tenant))
}

/// `/tenants/<t>/projects/<p>`.
pub fn project(tenant: &str, project: &str) -> String {
    format!("{}/{project}", projects(tenant))
}

/// `/tenants/<t>/projects/<p>/environments/<e>`.
pub fn environment(tenant: &str, project: &str, env: &str) -> String {
    format!("{}/environments/{env}", self::project(tenant, project))
}

/// `/tenants/<t>/deployments/<d>` (`dep_…` or `DEP-0001`).
pub fn deployment(tenant: &str, deployment: &str) -> String {
    format!("{}/deployments/{deployment}", self::tenant(tenant))
}

/// `/tenants/<t>/releases/<r>`.
pub fn release(tenant: &str, release: &str) -> String {
    format!("{}/releases/{release}", self::tenant(tenant))
}

/// `/tenants/<t>/runs/<r>`.
pub fn run(tenant: &str, run: &str) -> String {
    format!("{}/runs/{run}", self::tenant(tenant))
}

/// `/tenants/<t>/secrets`.
pub fn secrets(tenant: &str) -> String {
    format!("{}/secrets", self::tenant(tenant))
}

/// `/tenants/<t>/repository-connections`.
pub fn connections(tenant: &str) -> String {
    format!("{}/repository-connections", self::tenant(tenant))
}

/// `/tenants/<t>/databases`
pub fn databases(tenant: &str) -> String {
    format!("{}/databases", self::tenant(tenant))
}

/// `/tenants/<t>/projects/<p>/domains`.
pub fn domains(tenant: &str, project: &str) -> String {
    format!("{}/domains", self::project(tenant, project))
}

/// `value` as one query-string value.
pub fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_encoded_and_paths_nest() {
        assert_eq!(encode("my app&x=1"), "my+app%26x%3D1");
        assert_eq!(
            environment("ten_1", "prj_2", "env_3"),
            "/tenants/ten_1/projects/prj_2/environments/env_3"
        );
    }
}
