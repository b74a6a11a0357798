#!/bin/sh
# Writes the ACL file Redis loads (`aclfile` in redis.conf) from the users' rules
# (redis-users.acl) and their passwords: every `user NAME ...` line but `default` gets
# `#<SHA-256 of the password>` from $REDIS_PASSWORD_<NAME> (upper case, `-` as `_`), so the
# file holds hashes only; comments and blank lines are dropped (Redis refuses them). A user
# without a password, or a name it cannot map, stops it: Redis never starts with a user the
# Secrets did not configure. Runs in the redis StatefulSet's init container (POSIX sh and
# sha256sum: busybox or coreutils) and in crates/broker/tests/acl.rs.
#
# Usage: redis-users.sh RULES OUT
set -eu
rules="${1:?usage: redis-users.sh RULES OUT}"
out="${2:?usage: redis-users.sh RULES OUT}"
umask 077
tmp="$out.tmp"
: >"$tmp"
while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in
        '' | '#'*) continue ;;
        'user default '* | 'user default') printf '%s\n' "$line" >>"$tmp"; continue ;;
        'user '*) ;;
        *) echo "redis-users: not a user line: $line" >&2; exit 1 ;;
    esac
    name="${line#user }"
    name="${name%% *}"
    case "$name" in
        '' | *[!a-z0-9-]*) echo "redis-users: bad user name '$name'" >&2; exit 1 ;;
    esac
    var="REDIS_PASSWORD_$(printf '%s' "$name" | tr 'a-z-' 'A-Z_')"
    eval "password=\${$var:-}"
    if [ -z "$password" ]; then
        echo "redis-users: no password for user $name (\$$var)" >&2
        exit 1
    fi
    hash="$(printf '%s' "$password" | sha256sum | cut -d ' ' -f 1)"
    printf '%s #%s\n' "$line" "$hash" >>"$tmp"
done <"$rules"
mv "$tmp" "$out"
echo "redis-users: wrote $(grep -c '^user ' "$out") users to $out"
