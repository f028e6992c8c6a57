//! Settings of `serve`, `migrate`, `import` and `export`, layered with figment: built-in
//! defaults, then a TOML file, then `QUANYU_*` environment variables, then command-line flags.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use serde::{Deserialize, Serialize};

use crate::args::DatabaseArgs;

/// The settings file read when `--config` is not given, if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "quanyu.toml";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// `sqlite://PATH` or `postgres://…`.
    pub database_url: String,
    /// The address `serve` listens on.
    pub bind: String,
    /// Into how many shards `serve` cuts the audience index (default: one per core, at most
    /// [`quanyu_app::MAX_AUDIENCE_SHARDS`]).
    pub audience_shards: usize,
    /// How many days ahead `serve` lets an order promise its time (a booked visit, a delivery,
    /// a pickup).
    pub booking_horizon_days: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: "sqlite://quanyu-data/quanyu.db".to_owned(),
            bind: "127.0.0.1:8080".to_owned(),
            audience_shards: quanyu_app::default_audience_shards(),
            booking_horizon_days: quanyu_app::DEFAULT_BOOKING_HORIZON.num_days() as u32,
        }
    }
}

/// The most audience shards a setting may ask for (the default stops at the cores, at most
/// [`quanyu_app::MAX_AUDIENCE_SHARDS`]).
const MAX_AUDIENCE_SHARDS_SETTING: usize = 64;

/// The longest booking horizon a setting may ask for, in days: a year and a day (a typo's
/// thousands of days would let a booking hold its stock for good).
const MAX_BOOKING_HORIZON_DAYS: u32 = 366;

/// Values given as flags; only those present override the layers below.
#[derive(Debug, Default, Serialize)]
struct Flags {
    #[serde(skip_serializing_if = "Option::is_none")]
    database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bind: Option<String>,
}

impl Settings {
    /// Loads the layers; `bind` is the `--bind` flag of `serve`.
    pub fn load(database: &DatabaseArgs, bind: Option<&str>) -> anyhow::Result<Settings> {
        let file = match &database.config {
            Some(path) if !path.is_file() => bail!("config file {} does not exist", path.display()),
            Some(path) => path.clone(),
            // figment skips a missing file, which is what the default wants.
            None => PathBuf::from(DEFAULT_CONFIG_FILE),
        };
        let flags = Flags { database_url: database.database.clone(), bind: bind.map(str::to_owned) };
        let settings: Settings = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(&file))
            .merge(Env::prefixed("QUANYU_"))
            .merge(Serialized::defaults(flags))
            .extract()
            .with_context(|| format!("reading settings (file {}, QUANYU_* variables)", file.display()))?;
        // Every count starts one thread per shard: a typo must not make that thousands.
        if !(1..=MAX_AUDIENCE_SHARDS_SETTING).contains(&settings.audience_shards) {
            bail!(
                "audience_shards (QUANYU_AUDIENCE_SHARDS) must be between 1 and {MAX_AUDIENCE_SHARDS_SETTING}, not {}",
                settings.audience_shards
            );
        }
        if !(1..=MAX_BOOKING_HORIZON_DAYS).contains(&settings.booking_horizon_days) {
            bail!(
                "booking_horizon_days (QUANYU_BOOKING_HORIZON_DAYS) must be between 1 and {MAX_BOOKING_HORIZON_DAYS}, \
                 not {}",
                settings.booking_horizon_days
            );
        }
        Ok(settings)
    }

    /// The booking horizon as the app takes it.
    pub fn booking_horizon(&self) -> chrono::Duration {
        chrono::Duration::days(i64::from(self.booking_horizon_days))
    }
}

/// Creates the directory of a `sqlite://` database file, which SQLite itself will not do.
pub fn ensure_sqlite_dir(url: &str) -> anyhow::Result<()> {
    let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) else {
        return Ok(());
    };
    let path = Path::new(path.split('?').next().unwrap_or(path));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)] // figment's test jail dictates the error type.
    fn layers_apply_in_order() {
        let load = |args: &DatabaseArgs, bind| Settings::load(args, bind).map_err(|e| e.to_string());
        figment::Jail::expect_with(|jail| {
            let args = DatabaseArgs::default();
            assert_eq!(load(&args, None)?, Settings::default());

            jail.create_file(DEFAULT_CONFIG_FILE, "database_url = \"sqlite://file.db\"\nbind = \"0.0.0.0:1\"")?;
            let from_file = load(&args, None)?;
            assert_eq!((from_file.database_url.as_str(), from_file.bind.as_str()), ("sqlite://file.db", "0.0.0.0:1"));

            jail.set_env("QUANYU_BIND", "0.0.0.0:2");
            assert_eq!(load(&args, None)?.bind, "0.0.0.0:2");
            jail.set_env("QUANYU_AUDIENCE_SHARDS", "3");
            assert_eq!(load(&args, None)?.audience_shards, 3);
            for wrong in ["0", "65"] {
                jail.set_env("QUANYU_AUDIENCE_SHARDS", wrong);
                let refused = load(&args, None).expect_err("out of range");
                assert!(refused.contains("between 1 and 64"), "{refused}");
            }
            jail.set_env("QUANYU_AUDIENCE_SHARDS", "3");
            assert_eq!(load(&args, Some("0.0.0.0:3"))?.bind, "0.0.0.0:3");
            assert_eq!(load(&args, None)?.booking_horizon(), chrono::Duration::days(30));
            jail.set_env("QUANYU_BOOKING_HORIZON_DAYS", "90");
            assert_eq!(load(&args, None)?.booking_horizon(), chrono::Duration::days(90));
            for wrong in ["0", "367"] {
                jail.set_env("QUANYU_BOOKING_HORIZON_DAYS", wrong);
                let refused = load(&args, None).expect_err("out of range");
                assert!(refused.contains("between 1 and 366"), "{refused}");
            }
            jail.set_env("QUANYU_BOOKING_HORIZON_DAYS", "30");

            let flagged = DatabaseArgs { database: Some("sqlite://flag.db".into()), config: None };
            assert_eq!(load(&flagged, None)?.database_url, "sqlite://flag.db");
            Ok(())
        });
    }

    #[test]
    fn a_named_config_file_must_exist() {
        let args = DatabaseArgs { database: None, config: Some("/nonexistent/quanyu.toml".into()) };
        assert!(Settings::load(&args, None).is_err());
    }
}
