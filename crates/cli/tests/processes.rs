//! Real `quanyu serve` processes: a flash sale survives the server being killed (`SIGKILL`)
//! mid-sale with every acknowledged reservation kept and the books consistent, and two
//! instances on one PostgreSQL sell exactly the quota between them.

use std::{
    io::{Read as _, Write as _},
    net::{TcpListener, TcpStream},
    path::Path,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde_json::{Value, json};

const PASSWORD: &str = "process-test-1";

/// A database seeded through `quanyu import`: one region, one store, an HQ admin, one SKU.
struct Chain {
    dir: tempfile::TempDir,
    database: String,
}

impl Chain {
    fn new(database: Option<String>) -> Chain {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let database = database.unwrap_or_else(|| format!("sqlite://{}", dir.path().join("quanyu.db").display()));
        let chain = Chain { dir, database };
        chain.import("regions", "code,name\nN,北区\n");
        chain.import(
            "stores",
            "code,name,region,address,lat,lng,area_m2,opening_hours\nA,A 店,N,上海,31.2,121.4,100,00:00-24:00\n",
        );
        chain.import("staff", &format!("username,display_name,role,password\nboss,Boss,hq_admin,{PASSWORD}\n"));
        chain.import("skus", "product,category,code,name,unit,base_price\n车厘子,生鲜/水果,CHERRY,500g,盒,69.00\n");
        chain
    }

    fn import(&self, kind: &str, csv: &str) {
        let file = self.dir.path().join(format!("{kind}.csv"));
        std::fs::write(&file, csv).expect("writing a CSV file");
        let output = quanyu().args(["import", kind, path_str(&file), "--database", &self.database]).output().unwrap();
        assert!(output.status.success(), "import {kind}: {}", String::from_utf8_lossy(&output.stderr));
    }

    fn serve(&self) -> Server {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = quanyu()
            .args(["serve", "--database", &self.database, "--bind", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("quanyu serve starts");
        let server = Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while http(port, "GET", "/healthz", None, None, None).map(|(status, _)| status) != Some(200) {
            assert!(Instant::now() < deadline, "the server did not become healthy");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        http(self.port, method, path, token, key, body).expect("the server answers")
    }

    fn login(&self) -> String {
        let (status, body) =
            self.call("POST", "/api/v1/auth/login", None, None, Some(json!({"login": "boss", "password": PASSWORD})));
        assert_eq!(status, 200, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    fn kill(mut self) {
        // SIGKILL: no shutdown hook, no flush.
        self.child.kill().expect("killing the server");
        self.child.wait().expect("reaping the server");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn quanyu() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_quanyu"));
    command.env_remove("QUANYU_DATABASE_URL").env_remove("QUANYU_BIND").env("RUST_LOG", "warn");
    command
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// A minimal HTTP/1.1 exchange (one request per connection), enough for these tests.
fn http(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    key: Option<&str>,
    body: Option<Value>,
) -> Option<(u16, Value)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    if let Some(token) = token {
        request.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    if let Some(key) = key {
        request.push_str(&format!("Idempotency-Key: {key}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let text = String::from_utf8_lossy(&response);
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let payload = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    Some((status, serde_json::from_str(payload).unwrap_or(Value::Null)))
}

/// Receives stock and opens a flash sale; returns (sale id, store id, sku id).
fn open_sale(server: &Server, token: &str, stock: i64, quota: i64, limit: i64) -> (String, String, String) {
    let (_, stores) = server.call("GET", "/api/v1/stores", Some(token), None, None);
    let store = stores["items"][0]["id"].as_str().unwrap().to_owned();
    let (_, skus) = server.call("GET", "/api/v1/skus", Some(token), None, None);
    let sku = skus["items"][0]["id"].as_str().unwrap().to_owned();
    let receipt = json!({"sku_id": sku, "kind": "purchase_receipt", "quantity": stock});
    let (status, body) =
        server.call("POST", &format!("/api/v1/stores/{store}/stock/movements"), Some(token), Some("po"), Some(receipt));
    assert_eq!(status, 201, "{body}");
    let now = chrono::Utc::now();
    let offer = json!({"store_id": store, "sku_id": sku, "price": 990, "quota": quota, "per_customer_limit": limit,
                       "starts_at": now - chrono::Duration::minutes(1), "ends_at": now + chrono::Duration::hours(1)});
    let (status, sale) = server.call("POST", "/api/v1/flash-sales", Some(token), None, Some(offer));
    assert_eq!(status, 201, "{sale}");
    (sale["id"].as_str().unwrap().to_owned(), store, sku)
}

#[test]
fn acknowledged_reservations_survive_sigkill() {
    let chain = Chain::new(None);
    let server = chain.serve();
    let token = server.login();
    let (sale, store, sku) = open_sale(&server, &token, 10_000, 10_000, 1);
    // A registered member reserves first, so the reservation ordered after the restart is a
    // member's; the rush's buyers are member ids of their own (never ordered).
    let (status, member) = server.call(
        "POST",
        "/api/v1/customers",
        Some(&token),
        None,
        Some(json!({"identities": [{"kind": "phone", "value": "13900000001"}]})),
    );
    assert_eq!(status, 201, "{member}");
    let member = member["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/flash-sales/{sale}/reservations");
    let (status, first) =
        server.call("POST", &path, Some(&token), Some(&member), Some(json!({"buyer": member, "quantity": 1})));
    assert_eq!(status, 201, "{first}");
    let members_reservation = (member.clone(), first["id"].as_str().unwrap().to_owned());
    let acknowledged = Arc::new(Mutex::new(vec![members_reservation.clone()]));
    let port = server.port;
    let buyers: Vec<_> = (0..6)
        .map(|thread| {
            let (acknowledged, token, sale) = (Arc::clone(&acknowledged), token.clone(), sale.clone());
            std::thread::spawn(move || {
                for n in 0.. {
                    let buyer = uuid::Uuid::from_u64_pair(thread, n).to_string();
                    let body = json!({"buyer": buyer, "quantity": 1});
                    let path = format!("/api/v1/flash-sales/{sale}/reservations");
                    match http(port, "POST", &path, Some(&token), Some(&buyer), Some(body)) {
                        Some((201, reservation)) => acknowledged
                            .lock()
                            .unwrap()
                            .push((buyer, reservation["id"].as_str().unwrap_or_default().to_owned())),
                        Some(_) => {}
                        None => break, // the server is gone
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(800));
    server.kill();
    for buyer in buyers {
        buyer.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() > 1, "some reservations were acknowledged before the kill");
    eprintln!("{} reservations acknowledged before SIGKILL", acknowledged.len());

    let server = chain.serve();
    let token = server.login();
    // Every acknowledged reservation is there: asking again with its key finds the same one.
    for (buyer, id) in &acknowledged {
        let path = format!("/api/v1/flash-sales/{sale}/reservations");
        let (status, again) =
            server.call("POST", &path, Some(&token), Some(buyer), Some(json!({"buyer": buyer, "quantity": 1})));
        assert_eq!((status, again["id"].as_str()), (201, Some(id.as_str())), "{buyer} lost its reservation");
    }
    // And the books agree: sold = reserved stock, and every level equals its ledger.
    let (_, offer) = server.call("GET", &format!("/api/v1/flash-sales/{sale}"), Some(&token), None, None);
    let (_, stock) = server.call("GET", &format!("/api/v1/stores/{store}/stock/{sku}"), Some(&token), None, None);
    assert_eq!(offer["sold"], stock["reserved"], "{offer} {stock}");
    assert!(offer["sold"].as_i64().unwrap() >= acknowledged.len() as i64);
    let (_, reconcile) = server.call("GET", "/api/v1/inventory/reconcile", Some(&token), None, None);
    assert_eq!(reconcile["sound"], true, "{reconcile}");
    // The new instance replayed them from the journal: one becomes an order like any other.
    let (buyer, id) = &members_reservation;
    let order = json!({"channel": "pos", "flash_reservation_id": id});
    let (status, ordered) =
        server.call("POST", "/api/v1/orders", Some(&token), Some(&format!("o-{buyer}")), Some(order));
    assert_eq!(status, 201, "{ordered}");
    let (_, stock) = server.call("GET", &format!("/api/v1/stores/{store}/stock/{sku}"), Some(&token), None, None);
    assert_eq!(offer["sold"], stock["reserved"], "the order took over the hold: {stock}");
}

#[test]
fn two_instances_on_one_postgres_sell_exactly_the_quota() {
    let Some(url) = std::env::var("QUANYU_TEST_POSTGRES").ok().filter(|u| !u.is_empty()) else {
        eprintln!("skipped: QUANYU_TEST_POSTGRES is not set");
        return;
    };
    // A database of its own, so the chain starts empty.
    let name = format!("quanyu_two_{}", uuid::Uuid::now_v7().simple());
    let admin = Command::new("psql").args([&url, "-qc", &format!("CREATE DATABASE {name}")]).output();
    assert!(admin.map(|o| o.status.success()).unwrap_or(false), "creating a database on {url}");
    let database = match url.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => panic!("{url} names no database"),
    };
    let chain = Chain::new(Some(database));
    let (one, two) = (chain.serve(), chain.serve());
    let token = one.login();
    let (sale, _, _) = open_sale(&one, &token, 1_000, 100, 2);
    let ports = [one.port, two.port];
    let sold = Arc::new(Mutex::new(std::collections::HashMap::<String, i64>::new()));
    let threads: Vec<_> = (0..8)
        .map(|thread| {
            let (sold, token, sale) = (Arc::clone(&sold), token.clone(), sale.clone());
            std::thread::spawn(move || {
                for n in 0..40 {
                    // 80 buyers, each trying four times: 320 requests for a quota of 100.
                    let buyer = uuid::Uuid::from_u128((thread * 40 + n) as u128 % 80).to_string();
                    let port = ports[n % 2];
                    let path = format!("/api/v1/flash-sales/{sale}/reservations");
                    let key = format!("{thread}-{n}");
                    if let Some((201, _)) = http(
                        port,
                        "POST",
                        &path,
                        Some(&token),
                        Some(&key),
                        Some(json!({"buyer": buyer, "quantity": 1})),
                    ) {
                        *sold.lock().unwrap().entry(buyer).or_insert(0) += 1;
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let sold = sold.lock().unwrap();
    eprintln!("{} buyers got {} units across two instances", sold.len(), sold.values().sum::<i64>());
    assert_eq!(sold.values().sum::<i64>(), 100, "exactly the quota across both instances");
    assert!(sold.values().all(|&n| n <= 2), "no buyer beats the limit: {sold:?}");
    let (_, offer) = two.call("GET", &format!("/api/v1/flash-sales/{sale}"), Some(&token), None, None);
    assert_eq!(offer["sold"], 100);
    let (_, reconcile) = two.call("GET", "/api/v1/inventory/reconcile", Some(&token), None, None);
    assert_eq!(reconcile["sound"], true);
    drop((one, two));
    let _ = Command::new("psql").args([&url, "-qc", &format!("DROP DATABASE {name} WITH (FORCE)")]).output();
}

/// The SDK's script: identify a customer (tying the anonymous id to them), then a page and a
/// track, flushed as the SDK batches them, failing on any error the SDK reports.
const SEGMENT_SCRIPT: &str = r#"
import sys
import analytics

host, write_key, user_id = sys.argv[1:4]
errors = []
analytics.host = host
analytics.write_key = write_key
analytics.on_error = lambda error, batch: errors.append(str(error))
analytics.page(anonymous_id="anon-sdk", name="首页")
analytics.identify(user_id, {"name": "王女士"}, anonymous_id="anon-sdk")
analytics.track(anonymous_id="anon-sdk", event="Product Viewed", properties={"sku": "CHERRY", "price": 69})
analytics.flush()
analytics.shutdown()
if errors:
    print("\n".join(errors))
    sys.exit(1)
"#;

/// A Python with Segment's official SDK (`analytics-python` from PyPI), installed once into the
/// target directory.
fn segment_python() -> std::path::PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("segment-sdk-venv");
    let python = venv.join("bin").join("python");
    let ready = || Command::new(&python).args(["-c", "import analytics"]).output().is_ok_and(|o| o.status.success());
    if !ready() {
        let created = Command::new("python3").args(["-m", "venv", path_str(&venv)]).status().expect("python3 runs");
        assert!(created.success(), "creating a virtualenv");
        let installed = Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "analytics-python==1.4.post1"])
            .status()
            .expect("pip runs");
        assert!(installed.success(), "installing Segment's Python SDK from PyPI");
    }
    python
}

#[test]
fn the_official_segment_sdk_sends_unchanged() {
    let python = segment_python();
    let chain = Chain::new(None);
    let server = chain.serve();
    let token = server.login();
    let (status, source) =
        server.call("POST", "/api/v1/event-sources", Some(&token), None, Some(json!({"name": "python sdk"})));
    assert_eq!(status, 201, "{source}");
    let write_key = source["write_key"].as_str().unwrap();
    let identities = json!({"identities": [{"kind": "phone", "value": "13800138000"}]});
    let (status, customer) = server.call("POST", "/api/v1/customers", Some(&token), None, Some(identities));
    assert_eq!(status, 201, "{customer}");
    let customer = customer["id"].as_str().unwrap();

    let host = format!("http://127.0.0.1:{}", server.port);
    let output = Command::new(&python).args(["-c", SEGMENT_SCRIPT, &host, write_key, customer]).output().unwrap();
    assert!(
        output.status.success(),
        "the SDK reported errors: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let (_, events) = server.call("GET", &format!("/api/v1/customers/{customer}/events"), Some(&token), None, None);
    let mut kinds: Vec<_> = events["items"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["identify", "page", "track"], "{events}");
    let track = events["items"].as_array().unwrap().iter().find(|e| e["type"] == "track").unwrap();
    assert_eq!((track["name"].as_str(), track["properties"]["sku"].as_str()), (Some("Product Viewed"), Some("CHERRY")));
    assert_eq!(track["context"]["library"]["name"], "analytics-python", "the SDK's own context is kept");
}
