//! `tanksim keys`: API keys made, listed and revoked in Redis (or printed as a line of a
//! bootstrap keys file). A new key is printed once, on stdout, and never stored: only its
//! SHA-256 is.

use anyhow::Context;
use tanksim_auth::Scopes;
use tanksim_auth::api_key::{generate, record};
use tanksim_broker::{ApiKey, KeyStore, RedisKeys};
use tanksim_server::job::now_ms;

use crate::cli::{KeysCommand, KeysCreateArgs};

const DAY_MS: u64 = 24 * 3600 * 1000;

/// Runs one `keys` subcommand.
pub async fn run(command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Create(args) => create(args).await,
        KeysCommand::List { tenant, redis } => {
            let keys = connect(&redis.redis_url).await?.list_keys(tenant.as_deref()).await?;
            print!("{}", table(&keys, now_ms()));
            Ok(())
        }
        KeysCommand::Revoke { id, redis } => match connect(&redis.redis_url).await?.revoke_key(&id).await? {
            Some(key) => {
                eprintln!("revoked {} ({} of tenant {})", key.id(), key.name, key.tenant);
                Ok(())
            }
            None => anyhow::bail!("no key with id {id:?} (see `tanksim keys list`)"),
        },
    }
}

async fn create(args: KeysCreateArgs) -> anyhow::Result<()> {
    let scopes = Scopes::parse_strict(&args.scopes).map_err(anyhow::Error::msg)?;
    let now = now_ms();
    let expires = args.expires_in_days.map(|d| now + d * DAY_MS);
    let key = generate()?;
    let stored = record(&key, &args.tenant, &args.name, scopes, now, expires)?;
    if args.file_line {
        let mut line = serde_json::json!({
            "tenant": stored.tenant, "name": stored.name, "scopes": stored.scopes, "sha256": stored.sha256,
        });
        if let Some(at) = expires {
            line["expires_at_ms"] = at.into();
        }
        println!("{key}");
        eprintln!("bootstrap keys file line (append it to the file --api-keys-file reads):");
        eprintln!("{line}");
        return Ok(());
    }
    connect(&args.redis.redis_url).await?.put_key(&stored).await?;
    // The key alone on stdout, so `KEY=$(tanksim keys create ...)` works.
    println!("{key}");
    eprintln!(
        "created key {} for tenant {} ({}); it is shown only now: store it as a secret",
        stored.id(),
        stored.tenant,
        stored.scopes.join(" ")
    );
    Ok(())
}

async fn connect(url: &str) -> anyhow::Result<RedisKeys> {
    RedisKeys::connect(url)
        .await
        .with_context(|| format!("connecting to Redis at {}", tanksim_broker::url::redacted(url)))
}

/// The keys as a table: id, tenant, name, scopes, created, expires.
fn table(keys: &[ApiKey], now_ms: u64) -> String {
    let mut out =
        format!("{:<16}  {:<20}  {:<24}  {:<40}  {}\n", "ID", "TENANT", "NAME", "SCOPES", "EXPIRES");
    for k in keys {
        let expires = match k.expires_at_ms {
            None => "never".to_owned(),
            Some(at) if at <= now_ms => "expired".to_owned(),
            Some(at) => format!("in {} days", (at - now_ms).div_ceil(DAY_MS)),
        };
        out += &format!(
            "{:<16}  {:<20}  {:<24}  {:<40}  {expires}\n",
            k.id(),
            k.tenant,
            k.name,
            k.scopes.join(",")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_shows_ids_and_expiry_never_keys() {
        let key = |sha: char, expires_at_ms| ApiKey {
            sha256: std::iter::repeat_n(sha, 64).collect(),
            tenant: "acme".into(),
            name: "ci".into(),
            scopes: vec!["jobs:read".into()],
            created_at_ms: 0,
            expires_at_ms,
        };
        let text = table(&[key('a', None), key('b', Some(5)), key('c', Some(1000 + 2 * DAY_MS))], 1000);
        assert!(text.contains(&"a".repeat(16)) && !text.contains(&"a".repeat(17)), "{text}");
        assert!(text.contains("never") && text.contains("expired") && text.contains("in 2 days"), "{text}");
    }
}
