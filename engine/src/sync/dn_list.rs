//! DN lists for resync's `--source-input-file`: LDIF-style `dn:` and `dn::` (base64) lines,
//! `#` comments, folded lines (continuations start with one space); other lines, such as the
//! attributes of full LDIF entries, are ignored. Resync's failed-DNs files use this format.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct DnListError {
    pub line: usize,
    pub message: String,
}

pub fn parse_dn_list(text: &str) -> Result<Vec<String>, DnListError> {
    // Unfold first, remembering where each logical line started.
    let mut logical: Vec<(usize, String)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        match raw.strip_prefix(' ') {
            Some(rest) if !logical.is_empty() => {
                logical.last_mut().expect("checked").1.push_str(rest)
            }
            _ => logical.push((i + 1, raw.to_owned())),
        }
    }
    let mut dns = Vec::new();
    for (line, text) in logical {
        if text.starts_with('#') || text.trim().is_empty() {
            continue;
        }
        let lower = text.to_ascii_lowercase();
        if let Some(encoded) = lower.starts_with("dn::").then(|| text[4..].trim()) {
            let bytes = B64.decode(encoded).map_err(|e| DnListError {
                line,
                message: format!("bad base64 after \"dn::\": {e}"),
            })?;
            let dn = String::from_utf8(bytes).map_err(|_| DnListError {
                line,
                message: "the decoded DN is not UTF-8".into(),
            })?;
            dns.push(dn);
        } else if lower.starts_with("dn:") {
            let dn = text[3..].trim();
            if dn.is_empty() {
                return Err(DnListError {
                    line,
                    message: "\"dn:\" without a DN".into(),
                });
            }
            dns.push(dn.to_owned());
        }
    }
    Ok(dns)
}

/// One record of a failed-DNs file: the reason as a comment, then the DN.
pub fn failed_dn_record(dn: &str, reason: &str) -> String {
    let comment: String = reason.lines().collect::<Vec<_>>().join(" ");
    let safe = dn.is_ascii() && !dn.starts_with([' ', ':', '<']) && !dn.ends_with(' ');
    let dn_line = if safe {
        format!("dn: {dn}")
    } else {
        format!("dn:: {}", B64.encode(dn))
    };
    format!("# {comment}\n{dn_line}\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ldif_style_lists() {
        let text = "# failed\ndn: uid=a,ou=people,dc=x\n\nDN: uid=b,\n ou=people,dc=x\ncn: ignored\ndn:: dWlkPVpvw6sseD0x\n";
        assert_eq!(
            parse_dn_list(text).unwrap(),
            vec![
                "uid=a,ou=people,dc=x",
                "uid=b,ou=people,dc=x",
                "uid=Zoë,x=1"
            ]
        );
        assert_eq!(
            parse_dn_list("\n\ndn:\n").unwrap_err(),
            DnListError {
                line: 3,
                message: "\"dn:\" without a DN".into()
            }
        );
        assert!(
            parse_dn_list("dn:: !!!")
                .unwrap_err()
                .message
                .starts_with("bad base64")
        );
    }

    #[test]
    fn failed_records_read_back() {
        let text = failed_dn_record("uid=a,dc=x", "HTTP 400\nbad")
            + &failed_dn_record("uid=Zoë,dc=x", "x");
        assert!(text.starts_with("# HTTP 400 bad\ndn: uid=a,dc=x\n\n"));
        assert_eq!(
            parse_dn_list(&text).unwrap(),
            vec!["uid=a,dc=x", "uid=Zoë,dc=x"]
        );
    }
}
