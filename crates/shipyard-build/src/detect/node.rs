//! Node.js repositories: client-side builds (React, Vue, Svelte, Astro…) and servers
//! (Express, Fastify, Koa, NestJS, Next.js, Hono, plain node).

use super::package_manager::{self, Choice};
use super::{Confidence, Detection, FileTree, versions};
use serde_json::{Map, Value};
use shipyard_core::ProjectType;

/// Server frameworks recognised by dependency name.
const SERVER_FRAMEWORKS: &[(&str, &str)] = &[
    ("express", "Express"),
    ("fastify", "Fastify"),
    ("koa", "Koa"),
    ("hono", "Hono"),
    ("@hapi/hapi", "hapi"),
];

/// Conventional entry files of a node server, in the order node users expect.
const ENTRY_FILES: &[&str] = &[
    "server.js",
    "index.js",
    "app.js",
    "main.js",
    "src/server.js",
    "src/index.js",
];

struct Package<'a> {
    deps: Map<String, Value>,
    scripts: &'a Map<String, Value>,
}

impl Package<'_> {
    fn has(&self, dep: &str) -> bool {
        self.deps.contains_key(dep)
    }

    fn version(&self, dep: &str) -> String {
        self.deps.get(dep).and_then(Value::as_str).unwrap_or("*").to_owned()
    }

    fn script(&self, name: &str) -> Option<&str> {
        self.scripts.get(name).and_then(Value::as_str)
    }
}

/// Detects a package.json app; leaves `d.project_type` None for a workspace root.
pub fn detect(tree: &FileTree, d: &mut Detection, score: &mut Confidence) {
    let pkg: Value = match tree.read("package.json").map(serde_json::from_str) {
        Some(Ok(pkg)) => pkg,
        Some(Err(e)) => {
            d.say(format!(
                "package.json is not valid JSON ({e}), so nothing in it can be used."
            ));
            return;
        }
        None => {
            d.say("package.json is too large to read.");
            return;
        }
    };
    score.0 = Confidence::MANIFEST;
    let empty = Map::new();
    let mut deps = pkg["dependencies"].as_object().cloned().unwrap_or_default();
    deps.extend(pkg["devDependencies"].as_object().cloned().unwrap_or_default());
    let package = Package {
        deps,
        scripts: pkg["scripts"].as_object().unwrap_or(&empty),
    };
    let pm = package_manager::choose(tree, &pkg, d, score);
    versions::node(tree, &pkg, d);
    d.install_command = Some(pm.install(tree));

    if !classify_framework(tree, &package, &pm, d, score) && !plain_node(tree, &pkg, &package, &pm, d, score) {
        if pkg.get("workspaces").is_some() {
            d.say("package.json declares workspaces and no app of its own: this is a monorepo root.");
        } else {
            d.say("package.json has no build script, start script, main entry or known framework.");
        }
        d.install_command = None;
    }
}

/// Recognises a framework; true when it did.
fn classify_framework(tree: &FileTree, p: &Package, pm: &Choice, d: &mut Detection, score: &mut Confidence) -> bool {
    let build = p.script("build").map(|_| pm.run("build"));
    let client = |d: &mut Detection, score: &mut Confidence, ty, name: &str, out: &str, why: String| {
        d.classify(ty, name);
        d.say(why);
        d.output_directory = Some(out.to_owned());
        d.build_command = build.clone();
        score.0 += Confidence::FRAMEWORK;
        if d.build_command.is_some() {
            score.0 += Confidence::OWN_COMMANDS;
            d.say(format!(
                "The build script runs \"{}\"; its output goes to {out}/.",
                p.script("build").unwrap_or_default()
            ));
        } else {
            d.say("There is no build script: set buildCommand before deploying.");
            score.0 += Confidence::GUESS;
        }
    };
    if p.has("next") {
        d.classify(ProjectType::Node, "Next.js");
        d.say(format!(
            "package.json depends on next {}: Next.js runs its own server.",
            p.version("next")
        ));
        d.build_command = Some(pm.run("build"));
        d.start_command = Some(
            p.script("start")
                .map_or_else(|| "npx next start".to_owned(), |_| pm.run("start")),
        );
        d.port = Some(3000);
        score.0 += Confidence::FRAMEWORK + Confidence::OWN_COMMANDS;
        return true;
    }
    if p.has("@nestjs/core") {
        d.classify(ProjectType::Node, "NestJS");
        d.say(format!(
            "package.json depends on @nestjs/core {}.",
            p.version("@nestjs/core")
        ));
        d.build_command = build;
        d.start_command = Some(
            p.script("start:prod")
                .map_or_else(|| "node dist/main.js".to_owned(), |_| pm.run("start:prod")),
        );
        d.port = Some(3000);
        score.0 += Confidence::FRAMEWORK + Confidence::OWN_COMMANDS;
        return true;
    }
    let react = p.has("react") || p.has("react-dom");
    if p.has("react-scripts") {
        let why = format!(
            "package.json depends on react-scripts {} (Create React App).",
            p.version("react-scripts")
        );
        client(d, score, ProjectType::React, "Create React App", "build", why);
    } else if p.has("vite") && react {
        let why = format!(
            "package.json depends on react {} and vite {}.",
            p.version("react"),
            p.version("vite")
        );
        client(d, score, ProjectType::React, "Vite + React", "dist", why);
    } else if p.has("gatsby") {
        let why = format!("package.json depends on gatsby {}.", p.version("gatsby"));
        client(d, score, ProjectType::React, "Gatsby", "public", why);
    } else if p.has("astro") {
        let why = format!("package.json depends on astro {}.", p.version("astro"));
        client(d, score, ProjectType::Static, "Astro", "dist", why);
    } else if p.has("@sveltejs/kit") && p.has("@sveltejs/adapter-static") {
        let why = "package.json depends on @sveltejs/kit with adapter-static.".to_owned();
        client(d, score, ProjectType::Static, "SvelteKit (static)", "build", why);
    } else if p.has("vite") && p.has("vue") {
        let why = format!(
            "package.json depends on vue {} and vite {}.",
            p.version("vue"),
            p.version("vite")
        );
        client(d, score, ProjectType::Static, "Vite + Vue", "dist", why);
    } else if p.has("@vue/cli-service") {
        let why = "package.json depends on @vue/cli-service (Vue CLI).".to_owned();
        client(d, score, ProjectType::Static, "Vue CLI", "dist", why);
    } else if p.has("vite") && p.has("svelte") && !p.has("@sveltejs/kit") {
        let why = format!(
            "package.json depends on svelte {} and vite {}.",
            p.version("svelte"),
            p.version("vite")
        );
        client(d, score, ProjectType::Static, "Vite + Svelte", "dist", why);
    } else if let Some((dep, name)) = SERVER_FRAMEWORKS.iter().find(|(dep, _)| p.has(dep)) {
        d.classify(ProjectType::Node, name);
        d.say(format!(
            "package.json depends on {dep} {}: a Node.js server.",
            p.version(dep)
        ));
        score.0 += Confidence::FRAMEWORK;
        d.build_command = build;
        server_start(tree, p, pm, d, score);
        return true;
    } else if p.has("vite") {
        let why = format!(
            "package.json depends on vite {} with no UI framework recognised.",
            p.version("vite")
        );
        client(d, score, ProjectType::Static, "Vite", "dist", why);
    } else {
        return false;
    }
    warn_about_server_files(tree, p, d, score);
    true
}

/// A client-side app that also carries a server file: the signals disagree.
fn warn_about_server_files(tree: &FileTree, p: &Package, d: &mut Detection, score: &mut Confidence) {
    let server_file = tree.first_existing(&["server.js", "server.ts", "server.mjs"]);
    let server_dep = SERVER_FRAMEWORKS
        .iter()
        .find(|(dep, _)| p.has(dep))
        .map(|(dep, _)| *dep);
    if let Some(conflict) = server_file.or(server_dep) {
        d.say(format!(
            "{conflict} suggests a server too, but the build is a client-side app: it is served as static \
             files; choose type \"node\" if the server is what should run."
        ));
        score.0 += Confidence::CONFLICT;
    }
}

/// The start command of a node server: `scripts.start`, then `main`, then an entry file.
fn server_start(tree: &FileTree, p: &Package, pm: &Choice, d: &mut Detection, score: &mut Confidence) {
    d.port = Some(3000);
    if let Some(start) = p.script("start") {
        d.start_command = Some(pm.run("start"));
        d.say(format!("The start script runs \"{start}\"."));
        score.0 += Confidence::OWN_COMMANDS;
    } else if let Some(file) = tree.first_existing(ENTRY_FILES) {
        d.start_command = Some(format!("node {file}"));
        d.say(format!(
            "There is no start script; {file} is the conventional entry point."
        ));
    } else {
        d.say("No start script, main entry or server.js was found: set startCommand.");
        score.0 += Confidence::GUESS;
    }
}

/// A node app without a known framework: a start script, `main`, or an entry file.
fn plain_node(
    tree: &FileTree,
    pkg: &Value,
    p: &Package,
    pm: &Choice,
    d: &mut Detection,
    score: &mut Confidence,
) -> bool {
    let main = pkg["main"].as_str().filter(|m| tree.exists(m.trim_start_matches("./")));
    let entry = tree.first_existing(ENTRY_FILES);
    if p.script("start").is_none() && main.is_none() && entry.is_none() {
        if p.script("build").is_some() && tree.exists("index.html") {
            d.classify(ProjectType::Static, "Static build");
            d.build_command = Some(pm.run("build"));
            d.output_directory = Some("dist".into());
            d.say("A build script and index.html, with no framework recognised: the output is assumed to be dist/.");
            score.0 += Confidence::GUESS;
            return true;
        }
        return false;
    }
    d.classify(ProjectType::Node, "Node.js");
    d.port = Some(3000);
    d.build_command = p.script("build").map(|_| pm.run("build"));
    if p.script("start").is_some() {
        server_start(tree, p, pm, d, score);
    } else if let Some(main) = main {
        d.start_command = Some(format!("node {main}"));
        d.say(format!("package.json's main entry is {main}."));
    } else {
        server_start(tree, p, pm, d, score);
    }
    d.say("No server framework was recognised; the app is run with node.");
    true
}
