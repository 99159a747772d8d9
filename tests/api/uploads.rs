//! Uploads against the local storage: an upload URL, the bytes put there, completion
//! (size and real type checked) and processing; and every refusal leaving nothing
//! behind.

use std::time::Duration;

use axum::{
    body::Body,
    http::{Method, Request},
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::{Session, TestApp, TestResponse};

/// A file whose first bytes say PNG, `size` bytes long.
fn png(size: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".to_vec();
    bytes.resize(size, 7);
    bytes
}

/// `url` without the public address, as the in-process router takes it.
fn local(url: &str) -> String {
    url.trim_start_matches("http://sparkle.test").to_owned()
}

async fn presign(app: &TestApp, who: &Session, content_type: &str, size: usize) -> TestResponse {
    app.post(
        "/api/upload/presigned-url",
        Some(&who.token),
        json!({ "filename": "My Photo.PNG", "contentType": content_type, "fileSize": size }),
    )
    .await
}

/// PUTs `bytes` to an upload URL with `content_type`, declaring `length`.
async fn put(
    app: &TestApp,
    url: &str,
    content_type: &str,
    length: usize,
    bytes: Vec<u8>,
) -> TestResponse {
    let request = Request::builder()
        .method(Method::PUT)
        .uri(local(url))
        .header("content-type", content_type)
        .header("content-length", length)
        .body(Body::from(bytes))
        .expect("request");
    app.send(request).await
}

fn upload_url(presigned: &TestResponse) -> String {
    presigned.data(200)["uploadUrl"]
        .as_str()
        .expect("uploadUrl")
        .to_owned()
}

fn file_id(presigned: &TestResponse) -> String {
    presigned.data(200)["fileId"]
        .as_str()
        .expect("fileId")
        .to_owned()
}

async fn complete(app: &TestApp, who: &Session, id: &str) -> TestResponse {
    app.post(
        &format!("/api/upload/{id}/complete"),
        Some(&who.token),
        json!({}),
    )
    .await
}

#[tokio::test]
async fn a_file_is_uploaded_checked_processed_and_served() {
    let app = TestApp::new().await;
    let ada = app.register("ada").await;
    // Larger than the request body limit: the upload enforces its own signed size.
    let bytes = png(1_500_000);
    let presigned = presign(&app, &ada, "image/png", bytes.len()).await;
    let data = presigned.data(200).clone();
    let id = file_id(&presigned);
    let key = data["key"].as_str().expect("key");
    assert_eq!(key, format!("uploads/{}/{id}/my-photo.png", ada.user_id));
    assert!(data["expiresAt"].is_string());
    let url = upload_url(&presigned);
    let stored = put(&app, &url, "image/png", bytes.len(), bytes.clone()).await;
    assert_eq!(stored.body["success"], true, "{}", stored.body);

    let pending = app
        .get(&format!("/api/upload/{id}"), Some(&ada.token))
        .await;
    assert_eq!(pending.data(200)["status"], "PENDING");
    let completed = complete(&app, &ada, &id).await;
    assert_eq!(
        completed.data(200)["status"],
        "PROCESSING",
        "{}",
        completed.body
    );
    complete(&app, &ada, &id)
        .await
        .assert_error(409, "CONFLICT");
    app.run_jobs().await;
    let ready = app
        .get(&format!("/api/upload/{id}"), Some(&ada.token))
        .await;
    let ready = ready.data(200);
    assert_eq!(ready["status"], "READY");
    assert_eq!(ready["kind"], "IMAGE");
    assert_eq!(ready["size"], bytes.len());
    assert_eq!(ready["sha256"], hex::encode(Sha256::digest(&bytes)));
    let served_at = ready["url"].as_str().expect("url");
    assert_eq!(served_at, format!("http://sparkle.test/media/{key}"));
    let served = app
        .send(
            Request::builder()
                .uri(local(served_at))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(served.status.as_u16(), 200);
    assert_eq!(served.headers["content-type"], "image/png");
}

#[tokio::test]
async fn bad_upload_requests_are_refused_with_clear_errors() {
    let app = TestApp::new().await;
    let bea = app.register("bea").await;
    for (content_type, size, field) in [
        ("text/html", 10, "contentType"),
        ("image/svg+xml", 10, "contentType"),
        ("image/png", 0, "fileSize"),
        ("image/png", 10 * 1024 * 1024 + 1, "fileSize"),
        ("application/pdf", 10 * 1024 * 1024 + 1, "fileSize"),
    ] {
        let refused = presign(&app, &bea, content_type, size).await;
        refused.assert_error(400, "VALIDATION_ERROR");
        assert!(
            refused.body["fields"][field].is_string(),
            "{}",
            refused.body
        );
    }
    app.post(
        "/api/upload/presigned-url",
        None,
        json!({ "filename": "a.png", "contentType": "image/png", "fileSize": 10 }),
    )
    .await
    .assert_error(401, "UNAUTHORIZED");
    // A video may be larger than an image.
    presign(&app, &bea, "video/mp4", 50 * 1024 * 1024)
        .await
        .data(200);
}

#[tokio::test]
async fn the_upload_url_admits_only_the_signed_type_size_and_time() {
    let app = TestApp::with_config(|config| config.media.upload_url_ttl_secs = 1).await;
    let cid = app.register("cid").await;
    let bytes = png(2048);
    let presigned = presign(&app, &cid, "image/png", bytes.len()).await;
    let url = upload_url(&presigned);
    let id = file_id(&presigned);

    put(&app, &url, "text/html", bytes.len(), bytes.clone())
        .await
        .assert_error(403, "FORBIDDEN");
    put(
        &app,
        &url,
        "image/png",
        bytes.len() + 1,
        png(bytes.len() + 1),
    )
    .await
    .assert_error(413, "PAYLOAD_TOO_LARGE");
    let tampered = url.replacen("sig=", "sig=x", 1);
    put(&app, &tampered, "image/png", bytes.len(), bytes.clone())
        .await
        .assert_error(403, "FORBIDDEN");
    let resized = url.replacen(&format!("size={}", bytes.len()), "size=4096", 1);
    put(&app, &resized, "image/png", 4096, png(4096))
        .await
        .assert_error(403, "FORBIDDEN");
    complete(&app, &cid, &id)
        .await
        .assert_error(400, "VALIDATION_ERROR");

    tokio::time::sleep(Duration::from_millis(2100)).await;
    put(&app, &url, "image/png", bytes.len(), bytes)
        .await
        .assert_error(403, "FORBIDDEN");
    let status = app
        .get(&format!("/api/upload/{id}"), Some(&cid.token))
        .await;
    assert_eq!(status.data(200)["status"], "PENDING", "nothing was stored");
}

#[tokio::test]
async fn a_disguised_file_is_refused_and_removed_and_others_files_stay_private() {
    let app = TestApp::new().await;
    let dov = app.register("dov").await;
    let eve = app.register("eve").await;
    let html = b"<!DOCTYPE html><html><script>alert(1)</script></html>".to_vec();
    let presigned = presign(&app, &dov, "image/png", html.len()).await;
    let key = presigned.data(200)["key"].as_str().expect("key").to_owned();
    let id = file_id(&presigned);
    put(&app, &upload_url(&presigned), "image/png", html.len(), html)
        .await
        .data(200);

    // Someone else's upload is not found, and cannot be completed.
    app.get(&format!("/api/upload/{id}"), Some(&eve.token))
        .await
        .assert_error(404, "NOT_FOUND");
    complete(&app, &eve, &id)
        .await
        .assert_error(404, "NOT_FOUND");
    // Not served before it is READY.
    app.get(&format!("/media/{key}"), None)
        .await
        .assert_error(404, "NOT_FOUND");

    let refused = complete(&app, &dov, &id).await;
    refused.assert_error(400, "VALIDATION_ERROR");
    assert!(
        refused.body["fields"]["contentType"].is_string(),
        "{}",
        refused.body
    );
    let status = app
        .get(&format!("/api/upload/{id}"), Some(&dov.token))
        .await;
    let status: &Value = status.data(200);
    assert_eq!(status["status"], "FAILED");
    assert!(
        status["error"]
            .as_str()
            .is_some_and(|error| error.contains("not a image/png"))
    );
    let path = app.data_dir().join("media").join(&key);
    assert!(!path.exists(), "the disguised file is removed");
}

#[tokio::test]
async fn a_stored_file_of_another_size_than_declared_is_refused_and_removed() {
    let app = TestApp::new().await;
    let fay = app.register("fay").await;
    let presigned = presign(&app, &fay, "image/png", 4096).await;
    let key = presigned.data(200)["key"].as_str().expect("key").to_owned();
    let id = file_id(&presigned);
    // What a storage could hold after an upload that did not go through the URL.
    let path = app.data_dir().join("media").join(&key);
    std::fs::create_dir_all(path.parent().expect("folder")).expect("folder");
    std::fs::write(&path, png(1000)).expect("write");
    let refused = complete(&app, &fay, &id).await;
    refused.assert_error(400, "VALIDATION_ERROR");
    assert!(
        refused.body["fields"]["fileSize"].is_string(),
        "{}",
        refused.body
    );
    assert!(!path.exists());
}
