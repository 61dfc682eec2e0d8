//! The set of profiles a site uses: the built-ins plus its own from the config directory.

use super::{BUILTIN, Profile, ProfileError};
use std::collections::BTreeMap;
use std::path::Path;

/// A set of profiles by name: the built-ins plus a site's own.
#[derive(Debug, Clone, Default)]
pub struct ProfileSet {
    by_name: BTreeMap<String, Profile>,
}

impl ProfileSet {
    /// The built-in profiles.
    pub fn builtin() -> ProfileSet {
        let mut set = ProfileSet::default();
        for p in builtin() {
            set.by_name.insert(p.name.clone(), p);
        }
        set
    }

    /// Adds every `*.toml` file of `dir` (a site's own profiles). A file with the name of an
    /// existing profile replaces it. Missing directory = nothing added.
    pub fn load_dir(&mut self, dir: &Path) -> Result<usize, ProfileError> {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => {
                return Err(ProfileError {
                    origin: dir.display().to_string(),
                    line: None,
                    what: format!("cannot list directory: {e}"),
                });
            }
        };
        let mut paths: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        for path in &paths {
            let origin = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|e| ProfileError {
                origin: origin.clone(),
                line: None,
                what: format!("cannot read: {e}"),
            })?;
            let p = Profile::from_toml_str(&text, &origin)?;
            self.by_name.insert(p.name.clone(), p);
        }
        Ok(paths.len())
    }

    pub fn get(&self, name: &str) -> Option<&Profile> {
        self.by_name.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Profile> {
        self.by_name.values()
    }
}

/// Parses the built-in profiles. They are tested, so a failure here is a build defect; a
/// broken one is skipped (and logged) rather than taking the appliance down.
pub fn builtin() -> Vec<Profile> {
    BUILTIN
        .iter()
        .filter_map(
            |(origin, text)| match Profile::from_toml_str(text, origin) {
                Ok(p) => Some(p),
                Err(e) => {
                    tracing::error!("built-in profile refused: {e}");
                    None
                }
            },
        )
        .collect()
}

/// The built-in profile called `name`.
pub fn builtin_named(name: &str) -> Option<Profile> {
    builtin().into_iter().find(|p| p.name == name)
}
