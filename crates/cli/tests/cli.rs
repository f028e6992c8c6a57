//! The `quanyu` binary end to end, on a SQLite database in a temporary directory: imports that
//! round-trip through export, imports refused row by row with nothing written, and demo seeding
//! that gives the same chain for the same seed.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

/// A temporary working directory with its own database.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        Sandbox { dir: tempfile::tempdir().expect("a temporary directory") }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn database(&self) -> String {
        format!("sqlite://{}", self.path("db/quanyu.db").display())
    }

    /// Runs `quanyu ARGS` in the sandbox, isolated from the caller's settings.
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_quanyu"))
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("QUANYU_DATABASE_URL")
            .env_remove("QUANYU_BIND")
            .env("RUST_LOG", "warn")
            .output()
            .expect("the quanyu binary runs")
    }

    fn import(&self, kind: &str, csv: &str) -> Output {
        let file = self.path(&format!("{kind}.csv"));
        std::fs::write(&file, csv).expect("writing a CSV file");
        self.run(&["import", kind, path_str(&file), "--database", &self.database()])
    }

    fn import_ok(&self, kind: &str, csv: &str) {
        let output = self.import(kind, csv);
        assert!(output.status.success(), "import {kind} failed: {}", String::from_utf8_lossy(&output.stderr));
    }

    fn export(&self, kind: &str, extra: &[&str]) -> String {
        let database = self.database();
        let mut args = vec!["export", kind, "--database", &database];
        args.extend_from_slice(extra);
        let output = self.run(&args);
        assert!(output.status.success(), "export {kind} failed: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).expect("UTF-8 CSV")
    }
}

/// The data rows of a CSV text, as fields.
fn rows(csv: &str) -> Vec<Vec<String>> {
    csv::Reader::from_reader(csv.as_bytes())
        .records()
        .map(|record| record.expect("well-formed CSV").iter().map(str::to_owned).collect())
        .collect()
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temporary path")
}

const REGIONS: &str = "code,name\nSH,上海大区\nHZ,杭州大区\n";

const STORES: &str = "\
code,name,region,address,lat,lng,opening_hours,time_zone,area_m2,delivery_radius_m,phone,status,kind
SH001,鲜丰生活·静安寺店,SH,上海市静安区南京西路1788号,31.223717,121.446235,07:00-22:00,Asia/Shanghai,320,3000,021-52001234,open,store
SH002,\"鲜丰生活·徐家汇店, 旗舰\",SH,上海市徐汇区漕溪北路88号,31.192,121.437,00:00-24:00,Asia/Shanghai,1800,5000,,paused,store
SHW01,鲜丰生活·上海中心仓,SH,上海市嘉定区物流园,31.32,121.33,00:00-24:00,Asia/Shanghai,12000,0,,open,warehouse
HZ001,鲜丰生活·武林店,HZ,杭州市拱墅区延安路530号,30.2741,120.1551,08:00-22:00,Asia/Shanghai,95,3000,0571-87001234,open,store
";

/// An argon2id PHC string (the reference vector's shape), so staff round-trip without hashing.
const HASH: &str = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";

const SKUS: &str = "\
product,category,brand,kind,code,barcode,name,unit,sold_by_weight,attributes,images,base_price,store_price,online_price,member_price,cost_price,online_only,status
烟台红富士苹果,生鲜/水果,鲜丰优选,fresh,FRU0001-1,2010001000006,散装称重,kg,true,产地=烟台; 规格=散装,,12.80,,,11.50,8.20,false,active
烟台红富士苹果,生鲜/水果,鲜丰优选,fresh,FRU0001-2,6901234567892,精品盒装 500g,盒,false,规格=500g,https://img.example.cn/apple.jpg,9.90,,9.50,,,false,active
咔滋海盐薯片,食品杂货/休闲零食,咔滋,standard,SNK0001-1,6920000000012,70g,袋,false,,,6.50,6.20,,,4.00,false,inactive
会员年卡,会员服务/权益卡,,service,SRV0001-1,,电子券,张,false,,,199.00,,,,,true,active
";

#[test]
fn imports_round_trip_through_export() {
    let sandbox = Sandbox::new();
    sandbox.import_ok("regions", REGIONS);
    sandbox.import_ok("stores", STORES);
    assert_eq!(sandbox.export("regions", &[]), REGIONS);
    assert_eq!(sandbox.export("stores", &[]), STORES);

    let staff = format!(
        "username,display_name,phone,role,region,store,status,password,password_hash\n\
         admin2,总部管理员,,hq_admin,,,active,,\"{HASH}\"\n\
         rm-sh,王伟,13800138000,region_manager,SH,,active,,\"{HASH}\"\n\
         sm-sh001,李娜,13900139000,store_manager,,SH001,active,,\"{HASH}\"\n\
         cashier-sh001,张敏,,cashier,,SH001,disabled,a-long-secret,\n"
    );
    sandbox.import_ok("staff", &staff);
    let exported = sandbox.export("staff", &["--with-password-hashes"]);
    let (expected, got) = (rows(&staff), rows(&exported));
    assert_eq!(got.len(), expected.len());
    for (want, have) in expected.iter().zip(&got) {
        if want[7].is_empty() {
            assert_eq!(want, have);
        } else {
            // A plaintext password comes back as its argon2 hash.
            assert_eq!(want[..7], have[..7]);
            assert!(have[7].is_empty() && have[8].starts_with("$argon2id$"), "{have:?}");
        }
    }
    let without_hashes = rows(&sandbox.export("staff", &[]));
    assert!(without_hashes.iter().all(|row| row[7].is_empty() && row[8].is_empty()));

    let output = sandbox.import("skus", SKUS);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(summary.contains("6 categories, 2 brands, 3 products, 4 SKUs"), "{summary}");
    assert_eq!(sandbox.export("skus", &[]), SKUS);
}

#[test]
fn bad_rows_are_all_reported_and_nothing_is_written() {
    let sandbox = Sandbox::new();
    sandbox.import_ok("regions", REGIONS);
    let stores = "\
code,name,region,address,lat,lng,area_m2
SH001,好店,SH,上海市某路1号,31.2,121.4,100
SH002,坏坐标,SH,上海市某路2号,north,121.4,100
SH003,无此区域,XX,上海市某路3号,31.2,121.4,100
SH001,重复编码,SH,上海市某路4号,31.2,121.4,100
SH005,零面积,SH,上海市某路5号,31.2,121.4,0
";
    let output = sandbox.import("stores", stores);
    assert!(!output.status.success());
    let report = String::from_utf8_lossy(&output.stderr);
    for expected in [
        "line 3, field lat:",
        "line 4, field region:",
        "line 5, field code:",
        "line 6, field area_m2:",
        "nothing was written",
    ] {
        assert!(report.contains(expected), "missing {expected:?} in:\n{report}");
    }
    assert!(!report.contains(": line 2,"), "the good row is not reported:\n{report}");
    assert_eq!(sandbox.export("stores", &[]).lines().count(), 1, "only the header: nothing was written");

    let skus = "\
product,category,code,barcode,name,unit,base_price
苹果,生鲜/水果,A-1,6901234567892,500g,盒,9.90
苹果,生鲜/水果,A-2,,1kg,盒,12.345
梨,生鲜/水果,B-1,6901234567892,500g,盒,8.00
梨,,B-2,,1kg,盒,15.00
桃,生鲜/水果,C-1,6901234567891,500g,盒,7.00
";
    let output = sandbox.import("skus", skus);
    assert!(!output.status.success());
    let report = String::from_utf8_lossy(&output.stderr);
    for expected in
        ["line 3, field base_price:", "line 4, field barcode:", "line 5, field category:", "line 6, field barcode:"]
    {
        assert!(report.contains(expected), "missing {expected:?} in:\n{report}");
    }
    assert!(!report.contains(": line 2,"), "the good row is not reported:\n{report}");
    assert_eq!(sandbox.export("skus", &[]).lines().count(), 1, "no SKU, no product, no category written");

    let unknown_column = sandbox.import("regions", "code,name,colour\nSZ,苏州,red\n");
    assert!(!unknown_column.status.success());
    assert!(String::from_utf8_lossy(&unknown_column.stderr).contains("unknown column \"colour\""));
}

#[test]
fn demo_seeding_is_deterministic_and_happens_once() {
    let sandbox = Sandbox::new();
    let seed = |dir: &str| {
        // A smaller population than the default keeps the debug build quick.
        let output = sandbox.run(&["demo", "--no-serve", "--seed", "7", "--members", "600", "--data", dir]);
        assert!(output.status.success(), "demo failed: {}", String::from_utf8_lossy(&output.stderr));
        output
    };
    let export = |dir: &str, kind: &str| {
        let database = format!("sqlite://{}", sandbox.path(dir).join("quanyu.db").display());
        let output = sandbox.run(&["export", kind, "--database", &database]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).expect("UTF-8 CSV")
    };
    let first = seed("a");
    assert!(String::from_utf8_lossy(&first.stdout).contains("http://127.0.0.1:8080"));
    seed("b");
    for kind in ["regions", "stores", "skus"] {
        assert_eq!(export("a", kind), export("b", kind), "{kind} differ between two seedings with one seed");
    }
    let stores = export("a", "stores");
    assert_eq!(stores.lines().filter(|l| l.ends_with(",store")).count(), 60, "60 stores");
    assert_eq!(stores.lines().filter(|l| l.ends_with(",warehouse")).count(), 3, "a warehouse per region");
    assert_eq!(export("a", "skus").lines().count(), 2_001, "2,000 SKUs and a header");
    let staff = export("a", "staff");
    for login in ["admin,", "sm-sh001,", "cashier-sh001,", "rm-hz,"] {
        assert!(staff.contains(login), "{login}");
    }

    let database = format!("sqlite://{}", sandbox.path("a").join("quanyu.db").display());
    let reconciled = sandbox.run(&["reconcile", "--database", &database]);
    assert!(reconciled.status.success(), "the demo's ledgers: {}", String::from_utf8_lossy(&reconciled.stdout));
    let summary = String::from_utf8_lossy(&first.stderr);
    assert!(summary.contains("600 members with"), "{summary}");

    let again = seed("a");
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds a chain"));
    assert_eq!(export("a", "stores"), stores, "a second run does not seed again");
}

#[test]
fn help_names_every_setting() {
    let sandbox = Sandbox::new();
    let help = String::from_utf8(sandbox.run(&["--help"]).stdout).unwrap();
    for variable in ["QUANYU_DATABASE_URL", "QUANYU_BIND", "QUANYU_AUDIENCE_SHARDS", "QUANYU_BOOKING_HORIZON_DAYS"] {
        assert!(help.contains(variable), "{variable} missing from --help:\n{help}");
    }
    let serve = String::from_utf8(sandbox.run(&["serve", "--help"]).stdout).unwrap();
    for key in ["database_url", "bind", "audience_shards", "booking_horizon_days"] {
        assert!(serve.contains(&format!("`{key}`")), "{key} missing from serve --help:\n{serve}");
    }
}
