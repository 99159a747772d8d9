//! Presigned S3 URLs (AWS Signature Version 4, query-string form) that sign chosen
//! request headers, `Content-Length` among them. `object_store` signs URLs too, but
//! refuses to sign `Content-Length`, and only a signed length makes the bucket itself
//! refuse a body of another size.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html>

use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use percent_encoding::{
    AsciiSet, NON_ALPHANUMERIC, percent_decode_str, percent_encode, utf8_percent_encode,
};
use reqwest::Url;
use sha2::{Digest, Sha256};

/// The longest a presigned URL may work: SigV4 refuses more than 7 days.
const LONGEST: Duration = Duration::from_secs(7 * 24 * 3600);

/// The credentials and place that sign.
pub struct Presigner {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub region: String,
}

/// One request to presign.
pub struct Unsigned<'a> {
    pub method: &'a str,
    /// The object's full URL (endpoint, bucket and key), without a query.
    pub url: Url,
    /// Headers the request must carry with exactly these values (names in lower case).
    pub headers: &'a [(&'a str, String)],
    /// How long the URL works (at most 7 days).
    pub expires_in: Duration,
    pub at: DateTime<Utc>,
}

impl Presigner {
    /// `request`'s URL, signed.
    pub fn presign(&self, request: Unsigned<'_>) -> Url {
        let datetime = request.at.format("%Y%m%dT%H%M%SZ").to_string();
        let date = &datetime[..8];
        let scope = format!("{date}/{}/s3/aws4_request", self.region);
        let host = match request.url.port() {
            Some(port) => format!("{}:{port}", request.url.host_str().unwrap_or_default()),
            None => request.url.host_str().unwrap_or_default().to_owned(),
        };
        let mut headers: Vec<(&str, &str)> = request
            .headers
            .iter()
            .map(|(name, value)| (*name, value.trim()))
            .chain([("host", host.as_str())])
            .collect();
        headers.sort();
        let signed_headers = headers
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(";");
        let mut query = [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256".to_owned()),
            (
                "X-Amz-Credential",
                format!("{}/{scope}", self.access_key_id),
            ),
            ("X-Amz-Date", datetime.clone()),
            (
                "X-Amz-Expires",
                request.expires_in.min(LONGEST).as_secs().to_string(),
            ),
            ("X-Amz-SignedHeaders", signed_headers.clone()),
        ]
        .map(|(name, value)| (encode_component(name), encode_component(&value)));
        query.sort();
        let canonical_query = query
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("&");
        let canonical_headers: String = headers
            .iter()
            .map(|(name, value)| format!("{name}:{value}\n"))
            .collect();
        let canonical_request = format!(
            "{}\n{}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\nUNSIGNED-PAYLOAD",
            request.method,
            encode_path(request.url.path()),
        );
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256\n{datetime}\n{scope}\n{}",
            hex::encode(Sha256::digest(canonical_request.as_bytes()))
        );
        let key = [self.region.as_str(), "s3", "aws4_request"].iter().fold(
            hmac(format!("AWS4{}", self.secret_access_key).as_bytes(), date),
            |key, part| hmac(&key, part),
        );
        let signature = hex::encode(hmac(&key, &string_to_sign));
        let mut url = request.url;
        url.set_query(Some(&format!(
            "{canonical_query}&X-Amz-Signature={signature}"
        )));
        url
    }
}

fn hmac(key: &[u8], message: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// What AWS's URI encoding leaves as it is: `A–Z a–z 0–9 - _ . ~`.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// In a path, `/` too.
const PATH: &AsciiSet = &COMPONENT.remove(b'/');

/// A query name or value, encoded as AWS signs it.
fn encode_component(value: &str) -> String {
    utf8_percent_encode(value, COMPONENT).to_string()
}

/// A URL's path (percent-encoded already), encoded as AWS signs it: decoded, then
/// encoded once.
fn encode_path(path: &str) -> String {
    percent_encode(&percent_decode_str(path).collect::<Vec<u8>>(), PATH).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's own example of a presigned GET (the query-string authentication page).
    #[test]
    fn signs_aws_documented_example() {
        let presigner = Presigner {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            region: "us-east-1".into(),
        };
        let at = DateTime::parse_from_rfc3339("2013-05-24T00:00:00Z")
            .expect("date")
            .with_timezone(&Utc);
        let url = presigner.presign(Unsigned {
            method: "GET",
            url: Url::parse("https://examplebucket.s3.amazonaws.com/test.txt").expect("url"),
            headers: &[],
            expires_in: Duration::from_secs(86400),
            at,
        });
        assert!(
            url.as_str().ends_with(
                "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
            ),
            "{url}"
        );
    }

    #[test]
    fn works_at_most_seven_days() {
        let presigner = Presigner {
            access_key_id: "key".into(),
            secret_access_key: "secret".into(),
            region: "us-east-1".into(),
        };
        let url = presigner.presign(Unsigned {
            method: "PUT",
            url: Url::parse("http://127.0.0.1:9000/bucket/key").expect("url"),
            headers: &[],
            expires_in: Duration::from_secs(30 * 24 * 3600),
            at: Utc::now(),
        });
        assert!(url.as_str().contains("X-Amz-Expires=604800&"), "{url}");
    }

    #[test]
    fn encodes_as_aws_does() {
        assert_eq!(encode_component("a b/c~d"), "a%20b%2Fc~d");
        assert_eq!(encode_path("/bucket/a%20b/c+d"), "/bucket/a%20b/c%2Bd");
    }
}
