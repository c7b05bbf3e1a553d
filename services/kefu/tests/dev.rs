//! `kefu dev` as a developer runs it: the platform behind one gateway address, an admin key
//! printed on first start and kept for the next, data kept in `KEFU_DATA_DIR`, and a clean stop
//! on Ctrl-C.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    unreachable_pub
)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use kefu_proto::customers::v1 as cpb;
use tonic::metadata::MetadataValue;

/// A running `kefu dev` and the lines it has printed.
struct Dev {
    child: Child,
    lines: mpsc::Receiver<String>,
    printed: Vec<String>,
}

impl Dev {
    fn start(data_dir: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kefu"))
            .arg("dev")
            .env_clear()
            .env("KEFU_DATA_DIR", data_dir)
            .env("KEFU_LISTEN", "127.0.0.1:0")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            printed: Vec::new(),
        }
    }

    /// The next printed line, waiting up to a minute (a cold start migrates five databases).
    fn next_line(&mut self) -> String {
        let line = self
            .lines
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("kefu dev printed no more; so far: {:?}", self.printed));
        self.printed.push(line.clone());
        line
    }

    /// The gateway address and the admin API key, as printed on start.
    fn address_and_key(&mut self) -> (String, String) {
        let mut address = None;
        loop {
            let line = self.next_line();
            if let Some(rest) = line.strip_prefix("kefu dev: gateway listening on ") {
                address = rest.split_whitespace().next().map(str::to_owned);
            }
            if line.starts_with("kefu dev: admin API key") {
                let key = self.next_line();
                return (address.expect("the address comes before the key"), key);
            }
        }
    }

    /// Sends Ctrl-C (SIGINT) and waits for the process to end; its exit code and last line.
    fn interrupt(mut self) -> (bool, String) {
        let sent = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("kefu dev did not stop within 30 s of Ctrl-C");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let last = std::iter::from_fn(|| self.lines.recv_timeout(Duration::from_secs(5)).ok())
            .last()
            .unwrap_or_default();
        (status.success(), last)
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn customers(
    address: &str,
    key: &str,
) -> cpb::customer_service_client::CustomerServiceClient<
    tonic::service::interceptor::InterceptedService<
        tonic::transport::Channel,
        impl FnMut(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> + use<>,
    >,
> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{address}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let bearer = MetadataValue::try_from(format!("Bearer {key}")).unwrap();
    cpb::customer_service_client::CustomerServiceClient::with_interceptor(
        channel,
        move |mut request: tonic::Request<()>| {
            request
                .metadata_mut()
                .insert("authorization", bearer.clone());
            Ok(request)
        },
    )
}

// Multi-threaded: the clients' connection tasks must keep running (and answer the gateway's
// shutdown) while this test blocks on the process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kefu_dev_serves_through_its_gateway_keeps_key_and_data_and_stops_on_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();

    // First start: a new admin key, printed with the gateway's address and kept, owner-only.
    let mut dev = Dev::start(dir.path());
    let (address, key) = dev.address_and_key();
    let kept = dir.path().join("dev-admin.key");
    assert_eq!(std::fs::read_to_string(&kept).unwrap().trim(), key);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&kept).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "the key file is readable by its owner only"
        );
    }
    let created = customers(&address, &key)
        .await
        .create_customer(cpb::CreateCustomerRequest {
            customer: Some(cpb::Customer {
                display_name: "Mei Lin".into(),
                emails: vec!["mei@example.com".into()],
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("the admin key works through the gateway")
        .into_inner();
    let denied = customers(&address, "kefu_not-a-real-key")
        .await
        .get_customer(cpb::GetCustomerRequest {
            name: created.name.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(denied.code(), tonic::Code::Unauthenticated);
    let (stopped_cleanly, last) = dev.interrupt();
    assert!(stopped_cleanly, "kefu dev exited with an error on Ctrl-C");
    assert_eq!(last, "kefu dev: stopped");

    // Second start on the same data directory: the same key, the same data.
    let mut dev = Dev::start(dir.path());
    let (address, key_again) = dev.address_and_key();
    assert_eq!(key_again, key, "the first start's key is reused");
    let fetched = customers(&address, &key)
        .await
        .get_customer(cpb::GetCustomerRequest {
            name: created.name.clone(),
        })
        .await
        .expect("the customer survived the restart")
        .into_inner();
    assert_eq!(fetched.display_name, "Mei Lin");
    let (stopped_cleanly, last) = dev.interrupt();
    assert!(stopped_cleanly);
    assert_eq!(last, "kefu dev: stopped");
}
