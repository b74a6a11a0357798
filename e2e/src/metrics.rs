//! Scraping a service's admin port the way Prometheus does: `GET /metrics` over a plain
//! HTTP/1.1 connection (a few lines over a `TcpStream`; no HTTP client dependency), and the
//! text exposition format parsed into samples a test can sum and filter.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long one scrape may take.
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(5);

/// One sample: `name{labels} value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Every sample of one scrape.
#[derive(Debug, Clone, Default)]
pub struct Samples(pub Vec<Sample>);

impl Samples {
    /// Samples named `name` whose labels include every `(key, value)` of `labels`.
    pub fn matching<'a>(
        &'a self,
        name: &'a str,
        labels: &'a [(&str, &str)],
    ) -> impl Iterator<Item = &'a Sample> {
        self.0.iter().filter(move |s| {
            s.name == name && labels.iter().all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
    }

    /// The sum of the matching samples (0 when there is none).
    pub fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.matching(name, labels).map(|s| s.value).sum()
    }

    /// The value of the one matching sample; `None` if none or several match.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let mut found = self.matching(name, labels);
        let first = found.next()?;
        found.next().is_none().then_some(first.value)
    }

    /// Whether a series named `name` exists.
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|s| s.name == name)
    }

    /// The series of `name`, one per line: for failure messages.
    pub fn describe(&self, name: &str) -> String {
        let lines: Vec<String> =
            self.matching(name, &[]).map(|s| format!("{:?} {}", s.labels, s.value)).collect();
        if lines.is_empty() { format!("no {name} series") } else { format!("{name}: {}", lines.join("; ")) }
    }
}

/// Scrapes `url` (`http://HOST:PORT`, the admin port) and parses the answer.
pub async fn scrape(url: &str) -> Result<Samples, String> {
    let body = get(url, "/metrics").await?;
    parse(&body)
}

/// `GET path` on `url` (`http://HOST:PORT`); the body of a 200 answer.
pub async fn get(url: &str, path: &str) -> Result<String, String> {
    let authority = url.strip_prefix("http://").ok_or_else(|| format!("{url}: not an http:// URL"))?;
    let authority = authority.trim_end_matches('/');
    let exchange = async {
        let mut stream =
            TcpStream::connect(authority).await.map_err(|e| format!("connecting to {url}: {e}"))?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {authority}\r\nAccept: text/plain\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.map_err(|e| format!("writing to {url}: {e}"))?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.map_err(|e| format!("reading from {url}: {e}"))?;
        Ok::<_, String>(raw)
    };
    let raw = tokio::time::timeout(SCRAPE_TIMEOUT, exchange)
        .await
        .map_err(|_| format!("GET {url}{path}: no answer within {SCRAPE_TIMEOUT:?}"))??;
    let text = String::from_utf8(raw).map_err(|e| format!("GET {url}{path}: not UTF-8: {e}"))?;
    let (head, body) =
        text.split_once("\r\n\r\n").ok_or_else(|| format!("GET {url}{path}: no header end"))?;
    let mut lines = head.lines();
    let status = lines.next().unwrap_or_default();
    if status.split_whitespace().nth(1) != Some("200") {
        let said: String = body.chars().take(500).collect();
        return Err(format!("GET {url}{path}: {status}: {said}"));
    }
    let chunked = lines.any(|l| {
        l.split_once(':').is_some_and(|(k, v)| {
            k.trim().eq_ignore_ascii_case("transfer-encoding") && v.trim().eq_ignore_ascii_case("chunked")
        })
    });
    if chunked {
        dechunk(body).ok_or_else(|| format!("GET {url}{path}: bad chunked body"))
    } else {
        Ok(body.into())
    }
}

/// Decodes a `Transfer-Encoding: chunked` body.
fn dechunk(mut body: &str) -> Option<String> {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n")?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            return Some(out);
        }
        out.push_str(rest.get(..size)?);
        body = rest.get(size..)?.strip_prefix("\r\n")?;
    }
}

/// Parses the Prometheus text exposition format (comments and `# HELP` / `# TYPE` skipped;
/// label values unescaped; an optional timestamp ignored).
pub fn parse(text: &str) -> Result<Samples, String> {
    let mut samples = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        samples.push(parse_line(line).ok_or_else(|| format!("line {}: cannot parse {line:?}", n + 1))?);
    }
    Ok(Samples(samples))
}

fn parse_line(line: &str) -> Option<Sample> {
    let name_end = line.find(|c: char| c == '{' || c.is_whitespace())?;
    let name = &line[..name_end];
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(inner) = rest.strip_prefix('{') {
        rest = inner;
        loop {
            rest = rest.trim_start_matches([' ', ',']);
            if let Some(after) = rest.strip_prefix('}') {
                rest = after;
                break;
            }
            let (key, after) = rest.split_once('=')?;
            let (value, after) = quoted(after.strip_prefix('"')?)?;
            labels.insert(key.trim().to_owned(), value);
            rest = after;
        }
    }
    let value = rest.split_whitespace().next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        v => v.parse().ok()?,
    };
    Some(Sample { name: name.to_owned(), labels, value })
}

/// A label value up to its closing quote (escapes `\\`, `\"`, `\n`), and what follows.
fn quoted(s: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &s[i + 1..])),
            '\\' => match chars.next()?.1 {
                'n' => out.push('\n'),
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_text_format() {
        let text = "# HELP x_total Things.\n# TYPE x_total counter\n\
            x_total{service=\"tanksim-worker\",kind=\"monte_carlo\"} 8000\n\
            up 1 1700000000000\n\
            h_bucket{le=\"+Inf\",msg=\"a \\\"q\\\" \\\\ b\"} 3\n\
            g{} -2.5e-3\n";
        let samples = parse(text).expect("parses");
        assert_eq!(samples.0.len(), 4);
        assert_eq!(samples.sum("x_total", &[("kind", "monte_carlo")]), 8000.0);
        assert_eq!(samples.value("up", &[]), Some(1.0));
        let h = samples.matching("h_bucket", &[("le", "+Inf")]).next().expect("the bucket");
        assert_eq!(h.labels["msg"], "a \"q\" \\ b");
        assert_eq!(samples.value("g", &[]), Some(-0.0025));
        assert!(parse("bad{x=\"1\" 2").is_err());
    }

    #[test]
    fn decodes_chunked_bodies() {
        assert_eq!(dechunk("5\r\nhello\r\n1\r\n!\r\n0\r\n\r\n").as_deref(), Some("hello!"));
        assert_eq!(dechunk("5\r\nhel"), None);
    }
}
