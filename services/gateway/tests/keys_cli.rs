//! `kefu-gateway keys`: create, list and revoke API keys from the command line, as an operator
//! does, against the gateway's own SQLite database in `KEFU_DATA_DIR`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    unreachable_pub
)]

use std::path::Path;
use std::process::Output;

use kefu_principal::{InternalKey, Role};

/// What one `kefu-gateway keys …` run printed.
struct Run {
    success: bool,
    stdout: String,
    stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        Self {
            success: output.status.success(),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }
}

fn keys(data_dir: &Path, args: &[&str]) -> Run {
    std::process::Command::new(env!("CARGO_BIN_EXE_kefu-gateway"))
        // Only what an operator would set: no upstreams, no database URL from the test machine.
        .env_clear()
        .env("KEFU_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn")
        .arg("keys")
        .args(args)
        .output()
        .unwrap()
        .into()
}

/// The key id from `created key <id> for …`.
fn created_id(run: &Run) -> String {
    run.stderr
        .split_whitespace()
        .skip_while(|word| *word != "key")
        .nth(1)
        .unwrap_or_else(|| panic!("no key id in: {}", run.stderr))
        .to_owned()
}

#[tokio::test]
async fn operators_create_list_and_revoke_keys_and_the_gateway_honours_them() {
    let dir = tempfile::tempdir().unwrap();

    let integration = keys(
        dir.path(),
        &["create", "--name", "crm", "--role", "integration"],
    );
    assert!(integration.success, "{}", integration.stderr);
    let integration_key = integration.stdout.trim().to_owned();
    assert_eq!(
        integration.stdout.lines().count(),
        1,
        "only the key on stdout"
    );
    assert!(
        integration.stderr.contains("shown only once"),
        "{}",
        integration.stderr
    );
    let integration_id = created_id(&integration);

    let customer = keys(
        dir.path(),
        &[
            "create",
            "--name",
            "portal",
            "--role",
            "customer",
            "--customer",
            "cus_1",
        ],
    );
    assert!(customer.success, "{}", customer.stderr);
    let customer_key = customer.stdout.trim().to_owned();
    let customer_id = created_id(&customer);

    // Bad requests say what is wrong and create nothing.
    for (args, says) in [
        (
            &["create", "--name", "x", "--role", "customer"][..],
            "--customer",
        ),
        (
            &["create", "--name", "x", "--role", "wizard"][..],
            "unknown role",
        ),
        (
            &[
                "create",
                "--name",
                "x",
                "--role",
                "agent",
                "--customer",
                "cus_1",
            ][..],
            "only for --role customer",
        ),
    ] {
        let refused = keys(dir.path(), args);
        assert!(!refused.success, "{args:?} was accepted");
        assert!(refused.stdout.is_empty(), "{args:?} printed a key");
        assert!(
            refused.stderr.contains(says),
            "{args:?}: {}",
            refused.stderr
        );
    }

    // The list shows each key once, with its principal and state, and never a secret.
    let listed = keys(dir.path(), &["list"]);
    assert!(listed.success, "{}", listed.stderr);
    let mut rows: Vec<Vec<&str>> = listed
        .stdout
        .lines()
        .map(|line| line.split('\t').collect())
        .collect();
    rows.sort();
    let mut expected = vec![
        vec![
            integration_id.as_str(),
            "INTEGRATION",
            "crm",
            "crm",
            "active",
        ],
        vec![
            customer_id.as_str(),
            "CUSTOMER",
            "cus_1",
            "portal",
            "active",
        ],
    ];
    expected.sort();
    assert_eq!(rows, expected, "{}", listed.stdout);
    assert!(!listed.stdout.contains(&integration_key));
    assert!(!listed.stdout.contains(&customer_key));

    // Revoked once; a second time, or an unknown id, is an error.
    let revoked = keys(dir.path(), &["revoke", &integration_id]);
    assert!(revoked.success, "{}", revoked.stderr);
    assert_eq!(revoked.stdout.trim(), format!("revoked {integration_id}"));
    let again = keys(dir.path(), &["revoke", &integration_id]);
    assert!(!again.success);
    assert!(again.stderr.contains("no active key"), "{}", again.stderr);
    assert!(!keys(dir.path(), &["revoke", "no-such-key"]).success);
    let listed = keys(dir.path(), &["list"]);
    assert!(
        listed
            .stdout
            .lines()
            .any(|line| line.starts_with(&integration_id) && line.ends_with("\trevoked")),
        "{}",
        listed.stdout
    );

    // The gateway reading the same database accepts the live key as its principal and refuses
    // the revoked one.
    let url = kefu_db::default_sqlite_url(dir.path(), kefu_gateway::SERVICE).unwrap();
    let config = kefu_gateway::Config::new(url, InternalKey::generate(), Default::default());
    let store = kefu_gateway::prepare(config).await.unwrap().keys();
    let principal = store
        .verify(&customer_key)
        .await
        .unwrap()
        .expect("live key");
    assert_eq!(principal.role, Role::Customer);
    assert_eq!(principal.id, "cus_1");
    assert_eq!(principal.customer_id.as_deref(), Some("cus_1"));
    assert!(store.verify(&integration_key).await.unwrap().is_none());
}
