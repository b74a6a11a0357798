//! Redis URLs as they may be shown: in a log line or an error, the password is replaced by
//! `***` (`redis://:s3cret@redis:6379` -> `redis://:***@redis:6379`), so a misconfiguration
//! or an outage never writes the Redis password into the logs Loki keeps.

/// `url` with the password of its user-info part, if any, replaced by `***`.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else { return url.to_owned() };
    let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
    if !userinfo.contains(':') {
        // `redis://password@host` is not a form redis-rs reads as a password, but hide it too.
        return format!("{scheme}://***@{host}{tail}");
    }
    format!("{scheme}://{user}:***@{host}{tail}")
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn passwords_are_hidden_and_everything_else_kept() {
        assert_eq!(redacted("redis://:s3cret@redis:6379"), "redis://:***@redis:6379");
        assert_eq!(
            redacted("redis://tanksim:s3:cr@t@10.0.0.1:6379/2"),
            "redis://tanksim:***@10.0.0.1:6379/2"
        );
        assert_eq!(redacted("rediss://u:p@h/0?x=1"), "rediss://u:***@h/0?x=1");
        assert_eq!(redacted("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
        assert_eq!(redacted("redis://token@h:1"), "redis://***@h:1");
        assert_eq!(redacted("not a url"), "not a url");
    }
}
