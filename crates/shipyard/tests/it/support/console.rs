//! The console as a browser without JavaScript uses it: a cookie jar, forms posted with the
//! token the page carries (and the page's Origin), and the values found in the HTML.

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION, ORIGIN};

/// A client with a cookie jar that does not follow redirects (the tests read them).
pub struct Browserless {
    http: reqwest::Client,
    /// `http://127.0.0.1:<port>`
    pub base: String,
}

/// A page as fetched.
pub struct Fetched {
    /// Its status.
    pub status: StatusCode,
    /// Its headers.
    pub headers: HeaderMap,
    /// Where a redirect points (path or URL).
    pub location: Option<String>,
    /// Its HTML.
    pub html: String,
}

impl Browserless {
    /// A fresh visitor of `base`.
    pub fn new(base: &str) -> Self {
        shipyard_client::install_tls_provider();
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .expect("client");
        Self {
            http,
            base: base.to_owned(),
        }
    }

    async fn fetched(response: reqwest::Response) -> Fetched {
        let status = response.status();
        let headers = response.headers().clone();
        let location = headers.get(LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let html = response.text().await.expect("body");
        Fetched {
            status,
            headers,
            location,
            html,
        }
    }

    /// `GET path` as a browser asks for a page.
    pub async fn get(&self, path: &str) -> Fetched {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("accept", "text/html,application/xhtml+xml")
            .send()
            .await
            .expect("GET");
        Self::fetched(response).await
    }

    /// Posts a form from this site's own page.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Fetched {
        self.post_from(path, Some(&self.base.clone()), fields).await
    }

    /// Posts a form as a page at `origin` would (None: a client that sends no Origin).
    pub async fn post_from(&self, path: &str, origin: Option<&str>, fields: &[(&str, &str)]) -> Fetched {
        let mut request = self.http.post(format!("{}{path}", self.base)).form(fields);
        if let Some(origin) = origin {
            request = request.header(ORIGIN, origin);
        }
        Self::fetched(request.send().await.expect("POST")).await
    }

    /// `GET` of an API path with the session cookie, as JSON.
    pub async fn api(&self, path: &str) -> serde_json::Value {
        let response = self.http.get(format!("{}{path}", self.base)).send().await.expect("GET");
        assert!(response.status().is_success(), "{path}: {}", response.status());
        response.json().await.expect("json")
    }
}

/// The value of the first `<input name="…" value="…">` in `html`.
pub fn input(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\"");
    let at = html.find(&marker)?;
    let rest = &html[at..];
    let value = rest.find("value=\"")? + "value=\"".len();
    let end = rest[value..].find('"')?;
    Some(unescape(&rest[value..value + end]))
}

/// The form token a page carries.
pub fn csrf(html: &str) -> String {
    input(html, "csrf").expect("the page carries a form token")
}

/// The first form action in `html` that contains `part`.
pub fn action(html: &str, part: &str) -> Option<String> {
    attribute(html, "action", part)
}

/// The first `href` in `html` that contains `part`.
pub fn link(html: &str, part: &str) -> Option<String> {
    attribute(html, "href", part)
}

fn attribute(html: &str, name: &str, part: &str) -> Option<String> {
    let marker = format!("{name}=\"");
    html.match_indices(&marker).find_map(|(at, m)| {
        let start = at + m.len();
        let end = html[start..].find('"')? + start;
        let value = &html[start..end];
        value.contains(part).then(|| unescape(value))
    })
}

fn unescape(text: &str) -> String {
    text.replace("&#38;", "&")
        .replace("&amp;", "&")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
}

/// Signs up through the console's form; the visitor and their dashboard's path (`/app/ten_…`).
pub async fn signed_up(base: &str, email: &str, workspace: &str) -> (Browserless, String) {
    let b = Browserless::new(base);
    let page = b.get("/signup").await;
    assert_eq!(page.status, StatusCode::OK);
    let token = csrf(&page.html);
    let fields = [
        ("csrf", token.as_str()),
        ("name", "Ada"),
        ("email", email),
        ("password", "correct horse battery"),
        ("workspace", workspace),
    ];
    let done = b.post("/signup", &fields).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    assert_eq!(done.location.as_deref(), Some("/app"));
    let home = b.get("/app").await;
    let dashboard = home.location.expect("/app leads to the first workspace");
    assert!(dashboard.starts_with("/app/ten_"), "{dashboard}");
    (b, dashboard)
}

/// Makes a project through "new project" (detect, then create with `build` and `output`
/// set); the project page's path.
pub async fn new_project(b: &Browserless, dashboard: &str, url: &str, name: &str, build: &str, output: &str) -> String {
    let start = b.get(&format!("{dashboard}/new")).await;
    let token = csrf(&start.html);
    let detected = b
        .post(
            &format!("{dashboard}/new/detect"),
            &[("csrf", token.as_str()), ("url", url)],
        )
        .await;
    assert_eq!(detected.status, StatusCode::OK, "{}", detected.html);
    let connection = input(&detected.html, "connection").expect("the detect page names the connection");
    let made = b
        .post(
            &format!("{dashboard}/new"),
            &[
                ("csrf", token.as_str()),
                ("connection", connection.as_str()),
                ("name", name),
                ("type", "static"),
                ("branch", "main"),
                ("build", build),
                ("output", output),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.html);
    made.location.expect("to the project page")
}

/// Presses Deploy on the project page; the deployment page's path.
pub async fn press_deploy(b: &Browserless, project: &str) -> String {
    let page = b.get(project).await;
    let deploy = action(&page.html, "/deploy").expect("a Deploy button");
    let done = b.post(&deploy, &[("csrf", csrf(&page.html).as_str())]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    done.location.expect("to the deployment page")
}

/// The deployment page once its status is final (bounded by `secs`).
pub async fn settled(b: &Browserless, deployment: &str, secs: u64) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let page = b.get(deployment).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.html);
        let running = ["queued", "building", "deploying"]
            .iter()
            .any(|s| page.html.contains(&format!("id=\"dep-status\" class=\"status {s}\"")));
        if !running {
            return page.html;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{deployment} still running after {secs} s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}
