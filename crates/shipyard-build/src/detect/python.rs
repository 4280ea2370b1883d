//! Python repositories: Django, Flask, FastAPI, Starlette and plain WSGI/ASGI apps, with pip,
//! uv, poetry or a Pipfile.

use super::{Confidence, Detection, FileTree, versions};
use shipyard_core::{PackageManager, ProjectType};
use std::collections::BTreeSet;

/// Where dependencies are declared and how they install.
struct Manifest {
    deps: BTreeSet<String>,
    install: String,
    pyproject: Option<toml::Table>,
}

/// `Flask-Login>=0.6 ; python_version>"3"` → `flask-login`.
fn requirement_name(line: &str) -> Option<String> {
    let line = line.split('#').next()?.trim();
    if line.is_empty() || line.starts_with('-') {
        return None;
    }
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
        .unwrap_or(line.len());
    let name = line[..end].to_ascii_lowercase().replace('_', "-");
    (!name.is_empty()).then_some(name)
}

fn manifest(tree: &FileTree, d: &mut Detection, score: &mut Confidence) -> Manifest {
    let pyproject: Option<toml::Table> = tree.read("pyproject.toml").and_then(|t| match t.parse() {
        Ok(table) => Some(table),
        Err(e) => {
            d.say(format!("pyproject.toml is not valid TOML ({e})."));
            None
        }
    });
    let mut deps = BTreeSet::new();
    let poetry = pyproject
        .as_ref()
        .and_then(|p| p.get("tool"))
        .and_then(|t| t.get("poetry"));
    if let Some(list) = pyproject
        .as_ref()
        .and_then(|p| p.get("project"))
        .and_then(|p| p.get("dependencies"))
        .and_then(|v| v.as_array())
    {
        deps.extend(list.iter().filter_map(|v| v.as_str()).filter_map(requirement_name));
    }
    if let Some(table) = poetry.and_then(|p| p.get("dependencies")).and_then(|v| v.as_table()) {
        deps.extend(table.keys().map(|k| k.to_ascii_lowercase()));
    }
    if let Some(text) = tree.read("requirements.txt") {
        deps.extend(text.lines().filter_map(requirement_name));
    }
    let pipfile = tree.read("Pipfile").and_then(|t| t.parse::<toml::Table>().ok());
    if let Some(packages) = pipfile
        .as_ref()
        .and_then(|p| p.get("packages"))
        .and_then(|v| v.as_table())
    {
        deps.extend(packages.keys().map(|k| k.to_ascii_lowercase()));
    }

    let (manager, install, why) = if tree.exists("uv.lock") {
        (
            PackageManager::Uv,
            "uv sync --frozen --no-dev",
            "uv.lock is present: uv installs from it.",
        )
    } else if tree.exists("poetry.lock") || poetry.is_some() {
        (
            PackageManager::Poetry,
            "poetry install --only main --no-root",
            "pyproject.toml uses Poetry.",
        )
    } else if tree.exists("requirements.txt") {
        (
            PackageManager::Pip,
            "pip install -r requirements.txt",
            "requirements.txt lists the dependencies.",
        )
    } else if tree.exists("Pipfile") {
        (
            PackageManager::Pip,
            "pip install pipenv && pipenv install --system --deploy",
            "A Pipfile lists the dependencies (installed with pipenv).",
        )
    } else {
        (
            PackageManager::Pip,
            "pip install .",
            "pyproject.toml declares the project; pip installs it.",
        )
    };
    d.say(why);
    d.package_manager = Some(manager);
    if manager != PackageManager::Pip || tree.exists("requirements.txt") {
        score.0 += Confidence::LOCKFILE;
    }
    Manifest {
        deps,
        install: install.to_owned(),
        pyproject,
    }
}

/// The module and variable of an app object made by `constructor`, e.g. `app = Flask(__name__)`
/// in app.py → `("app", "app")`.
fn find_app(tree: &FileTree, constructor: &str) -> Option<(String, String)> {
    let preferred = ["app.py", "main.py", "wsgi.py", "asgi.py", "application.py", "server.py"];
    let mut files: Vec<&str> = preferred.iter().copied().filter(|f| tree.exists(f)).collect();
    files.extend(
        tree.paths()
            .filter(|p| !p.contains('/') && p.ends_with(".py") && !preferred.contains(p)),
    );
    files.into_iter().find_map(|file| {
        let text = tree.read(file)?;
        let line = text
            .lines()
            .find(|l| l.contains(&format!("{constructor}(")) && l.contains('='))?;
        let var = line.split('=').next()?.trim();
        let valid = !var.is_empty() && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        valid.then(|| (file.trim_end_matches(".py").to_owned(), var.to_owned()))
    })
}

/// The Django project package named in manage.py's settings module.
fn django_project(tree: &FileTree) -> Option<String> {
    let text = tree.read("manage.py")?;
    let at = text.find("DJANGO_SETTINGS_MODULE")?;
    let rest = &text[at..];
    let quoted = rest.split(['"', '\'']).nth(2)?;
    quoted.strip_suffix(".settings").map(str::to_owned)
}

/// Detects a Python app.
pub fn detect(tree: &FileTree, d: &mut Detection, score: &mut Confidence) {
    score.0 = Confidence::MANIFEST;
    let mut m = manifest(tree, d, score);
    versions::python(tree, m.pyproject.as_ref(), d);
    d.port = Some(8000);
    let needs = |server: &str, m: &mut Manifest, d: &mut Detection| {
        if !m.deps.contains(server) {
            d.say(format!(
                "{server} is not among the dependencies; the install step adds it."
            ));
            m.install = format!("{} && pip install {server}", m.install);
        }
    };

    if m.deps.contains("django") {
        d.classify(ProjectType::Python, "Django");
        d.say("The dependencies include django.");
        match django_project(tree) {
            Some(project) => {
                d.say(format!(
                    "manage.py points at {project}.settings, so the WSGI app is {project}.wsgi."
                ));
                d.start_command = Some(format!("gunicorn {project}.wsgi --bind 0.0.0.0:$PORT"));
                score.0 += Confidence::FRAMEWORK;
            }
            None => {
                d.say("manage.py with DJANGO_SETTINGS_MODULE was not found: set startCommand.");
                score.0 += Confidence::FRAMEWORK + Confidence::GUESS;
            }
        }
        needs("gunicorn", &mut m, d);
    } else if let Some((framework, constructor, server)) = [
        ("fastapi", "FastAPI", "uvicorn"),
        ("starlette", "Starlette", "uvicorn"),
        ("flask", "Flask", "gunicorn"),
    ]
    .into_iter()
    .find(|(dep, _, _)| m.deps.contains(*dep))
    {
        d.classify(ProjectType::Python, constructor);
        d.say(format!("The dependencies include {framework}."));
        score.0 += Confidence::FRAMEWORK;
        let (module, var) = match find_app(tree, constructor) {
            Some((module, var)) => {
                d.say(format!("{module}.py creates the app object `{var}`."));
                (module, var)
            }
            None => {
                d.say(format!(
                    "No `{constructor}(` app object was found in a top-level .py file; assuming app:app."
                ));
                score.0 += Confidence::GUESS;
                ("app".to_owned(), "app".to_owned())
            }
        };
        d.start_command = Some(if server == "uvicorn" {
            format!("uvicorn {module}:{var} --host 0.0.0.0 --port $PORT")
        } else {
            format!("gunicorn {module}:{var} --bind 0.0.0.0:$PORT")
        });
        needs(server, &mut m, d);
    } else if let Some(entry) = tree.first_existing(&["wsgi.py", "asgi.py", "app.py", "main.py"]) {
        d.classify(ProjectType::Python, "Python");
        d.say(format!(
            "No web framework was recognised; {entry} is the conventional entry point."
        ));
        d.start_command = Some(match entry {
            "wsgi.py" => "gunicorn wsgi:application --bind 0.0.0.0:$PORT".to_owned(),
            "asgi.py" => "uvicorn asgi:application --host 0.0.0.0 --port $PORT".to_owned(),
            other => format!("python {other}"),
        });
        match entry {
            "wsgi.py" => needs("gunicorn", &mut m, d),
            "asgi.py" => needs("uvicorn", &mut m, d),
            _ => {}
        }
        score.0 += Confidence::GUESS;
    } else {
        d.say("Python dependencies are declared, but no web framework or entry file (app.py, main.py, wsgi.py) was found.");
        d.package_manager = None;
        return;
    }
    d.install_command = Some(m.install);
}

#[cfg(test)]
mod tests {
    use super::requirement_name;

    #[test]
    fn requirement_lines_give_normalised_names() {
        assert_eq!(
            requirement_name("Flask-Login>=0.6 ; python_version>'3'").as_deref(),
            Some("flask-login")
        );
        assert_eq!(requirement_name("uvicorn[standard]==0.30"), Some("uvicorn".into()));
        assert_eq!(requirement_name("python_dateutil"), Some("python-dateutil".into()));
        assert_eq!(requirement_name("# comment"), None);
        assert_eq!(requirement_name("-r base.txt"), None);
    }
}
