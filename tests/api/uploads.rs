//! Uploads: an upload URL, the bytes put there, completion (size and real type
//! checked) and processing; and every refusal leaving nothing behind. Against the
//! local storage, or against a real S3 server (SeaweedFS in CI) when `TEST_S3_URL` is
//! set, where the bucket itself refuses what its presigned URL did not sign.

use std::time::Duration;

use axum::{
    body::Body,
    http::{Method, Request},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{
    storage::uses_s3,
    support::{Session, TestApp, TestResponse},
    ws_client::{Protocol, WsClient},
};

/// A file whose first bytes say PNG, `size` bytes long.
fn png(size: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".to_vec();
    bytes.resize(size, 7);
    bytes
}

/// A PNG of random pixels (so it does not compress), `width × height`.
fn noisy_png(width: u32, height: u32) -> Vec<u8> {
    let mut image = image::RgbImage::new(width, height);
    for (index, pixel) in image.pixels_mut().enumerate() {
        let seed = (index as u32).wrapping_mul(2_654_435_761);
        *pixel = image::Rgb([(seed >> 24) as u8, (seed >> 16) as u8, (seed >> 8) as u8]);
    }
    encode(
        &image::DynamicImage::ImageRgb8(image),
        image::ImageFormat::Png,
    )
}

fn encode(image: &image::DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut bytes), format)
        .expect("encode");
    bytes
}

/// The bytes served at `url`.
async fn fetch(app: &TestApp, url: &str) -> Vec<u8> {
    let (status, _, bytes) = fetch_range(app, url, None).await;
    assert_eq!(status, 200, "{url}");
    bytes
}

/// The test server's public address.
const PUBLIC_URL: &str = "http://sparkle.test";

/// `url` without the public address, as the in-process router takes it.
fn local(url: &str) -> String {
    url.trim_start_matches(PUBLIC_URL).to_owned()
}

async fn presign(app: &TestApp, who: &Session, content_type: &str, size: usize) -> TestResponse {
    app.post(
        "/api/upload/presigned-url",
        Some(&who.token),
        json!({ "filename": "My Photo.PNG", "contentType": content_type, "fileSize": size }),
    )
    .await
}

/// PUTs `bytes` to an upload URL with `content_type`, declaring `length`: to the
/// server's own upload target in-process, or to the bucket with a plain HTTP client
/// (which declares the body's own length).
async fn put(
    app: &TestApp,
    url: &str,
    content_type: &str,
    length: usize,
    bytes: Vec<u8>,
) -> TestResponse {
    if url.starts_with(PUBLIC_URL) {
        let request = Request::builder()
            .method(Method::PUT)
            .uri(local(url))
            .header("content-type", content_type)
            .header("content-length", length)
            .body(Body::from(bytes))
            .expect("request");
        return app.send(request).await;
    }
    assert_eq!(
        length,
        bytes.len(),
        "an HTTP client declares the body's length"
    );
    let response = reqwest::Client::new()
        .put(url)
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await
        .expect("the bucket answers");
    TestResponse {
        status: response.status(),
        headers: response.headers().clone(),
        body: Value::String(response.text().await.expect("body")),
    }
}

/// PUTs `bytes` of `content_type` to an upload URL, which takes them.
async fn put_ok(app: &TestApp, url: &str, content_type: &str, bytes: Vec<u8>) {
    let stored = put(app, url, content_type, bytes.len(), bytes).await;
    assert_eq!(stored.status.as_u16(), 200, "{}", stored.body);
    if url.starts_with(PUBLIC_URL) {
        assert_eq!(stored.body["success"], true, "{}", stored.body);
    }
}

/// Asserts an upload was refused: by the bucket (403, with its error `s3_code`), or by
/// the local upload target with `status` and `code`.
#[track_caller]
fn assert_refused(response: &TestResponse, (status, code): (u16, &str), s3_code: &str) {
    if uses_s3() {
        assert_eq!(response.status.as_u16(), 403, "{}", response.body);
        assert!(
            response
                .body
                .as_str()
                .is_some_and(|body| body.contains(&format!("<Code>{s3_code}</Code>"))),
            "{}",
            response.body
        );
    } else {
        response.assert_error(status, code);
    }
}

/// What S3 answers to a request that does not match what was signed.
const SIGNATURE_MISMATCH: &str = "SignatureDoesNotMatch";

/// `url` with its signature changed.
fn tampered(url: &str) -> String {
    let marker = if uses_s3() {
        "X-Amz-Signature="
    } else {
        "sig="
    };
    assert!(url.contains(marker), "{url}");
    url.replacen(marker, &format!("{marker}0"), 1)
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
    if !uses_s3() {
        eprintln!("TEST_S3_URL is not set: uploads go to a local folder, not an S3 server");
    }
    let app = TestApp::new().await;
    let ada = app.register("ada").await;
    // Larger than the request body limit: the upload enforces its own signed size.
    let bytes = noisy_png(800, 600);
    assert!(bytes.len() > 1024 * 1024, "{}", bytes.len());
    let presigned = presign(&app, &ada, "image/png", bytes.len()).await;
    let data = presigned.data(200).clone();
    let id = file_id(&presigned);
    let key = data["key"].as_str().expect("key");
    assert_eq!(key, format!("uploads/{}/{id}/my-photo.png", ada.user_id));
    assert!(data["expiresAt"].is_string());
    let url = upload_url(&presigned);
    // Completed too early: refused, and it may be completed once the bytes are there.
    complete(&app, &ada, &id)
        .await
        .assert_error(400, "VALIDATION_ERROR");
    put_ok(&app, &url, "image/png", bytes.clone()).await;

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
    assert_eq!(
        served.headers["content-security-policy"],
        "default-src 'none'; sandbox"
    );

    // Variants of the widths that fit (never upscaled), and a blurhash of the right aspect.
    let variants: Vec<(u64, u64)> = ready["variants"]
        .as_array()
        .expect("variants")
        .iter()
        .map(|variant| {
            (
                variant["width"].as_u64().expect("w"),
                variant["height"].as_u64().expect("h"),
            )
        })
        .collect();
    assert_eq!(variants, vec![(150, 112), (320, 240), (640, 480)]);
    let variant_url = ready["variants"][2]["url"].as_str().expect("url");
    let fetched = fetch(&app, variant_url).await;
    let decoded = image::load_from_memory(&fetched).expect("a variant decodes");
    assert_eq!((decoded.width(), decoded.height()), (640, 480));
    // In the storage itself: the file and its variants, of the expected sizes.
    let storage = app.storage();
    let folder = format!("uploads/{}/{id}/", ada.user_id);
    let stored = storage.keys(&folder).await;
    assert_eq!(stored.len(), 4, "{stored:?}");
    assert_eq!(storage.read(key).await.as_deref(), Some(&bytes[..]));
    let mut sizes = Vec::new();
    for stored_key in stored.iter().filter(|stored_key| *stored_key != key) {
        let variant = storage.read(stored_key).await.expect("a stored variant");
        let decoded = image::load_from_memory(&variant).expect("a stored variant decodes");
        sizes.push((u64::from(decoded.width()), u64::from(decoded.height())));
    }
    sizes.sort();
    assert_eq!(sizes, variants);
    // The blurhash decodes to a placeholder of the image's aspect.
    let hash = ready["blurhash"].as_str().expect("blurhash");
    let (width, height) = (40, 40 * 600 / 800);
    let placeholder = blurhash::decode(hash, width, height, 1.0).expect("the blurhash decodes");
    assert_eq!(placeholder.len(), (width * height * 4) as usize);
    assert!(placeholder.chunks(4).all(|pixel| pixel[3] == 255));
    assert_eq!(
        (ready["width"].as_u64(), ready["height"].as_u64()),
        (Some(800), Some(600))
    );
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

    let wrong_type = put(&app, &url, "text/html", bytes.len(), bytes.clone()).await;
    assert_refused(&wrong_type, (403, "FORBIDDEN"), SIGNATURE_MISMATCH);
    let larger = png(bytes.len() + 1);
    let larger = put(&app, &url, "image/png", larger.len(), larger).await;
    assert_refused(&larger, (413, "PAYLOAD_TOO_LARGE"), SIGNATURE_MISMATCH);
    let forged = put(
        &app,
        &tampered(&url),
        "image/png",
        bytes.len(),
        bytes.clone(),
    )
    .await;
    assert_refused(&forged, (403, "FORBIDDEN"), SIGNATURE_MISMATCH);
    // Signed parameters cannot be changed.
    let (signed, changed) = if uses_s3() {
        ("X-Amz-Expires=1&", "X-Amz-Expires=3600&")
    } else {
        ("expires=", "expires=9")
    };
    assert!(url.contains(signed), "{url}");
    let extended = put(
        &app,
        &url.replacen(signed, changed, 1),
        "image/png",
        bytes.len(),
        bytes.clone(),
    )
    .await;
    assert_refused(&extended, (403, "FORBIDDEN"), SIGNATURE_MISMATCH);
    complete(&app, &cid, &id)
        .await
        .assert_error(400, "VALIDATION_ERROR");

    tokio::time::sleep(Duration::from_millis(2100)).await;
    let expired = put(&app, &url, "image/png", bytes.len(), bytes).await;
    assert_refused(&expired, (403, "FORBIDDEN"), "AccessDenied");
    let status = app
        .get(&format!("/api/upload/{id}"), Some(&cid.token))
        .await;
    assert_eq!(status.data(200)["status"], "PENDING", "nothing was stored");
    assert_eq!(app.storage().keys("").await, Vec::<String>::new());
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
    put_ok(&app, &upload_url(&presigned), "image/png", html).await;

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
    assert_eq!(
        app.storage().keys("").await,
        Vec::<String>::new(),
        "the disguised file is removed"
    );
}

#[tokio::test]
async fn a_stored_file_of_another_size_than_declared_is_refused_and_removed() {
    let app = TestApp::new().await;
    let fay = app.register("fay").await;
    let presigned = presign(&app, &fay, "image/png", 4096).await;
    let id = file_id(&presigned);
    // What a storage could hold after an upload that did not go through the URL.
    let storage = app.storage();
    storage.write(&format!("pending/{id}"), png(1000)).await;
    let refused = complete(&app, &fay, &id).await;
    refused.assert_error(400, "VALIDATION_ERROR");
    assert!(
        refused.body["fields"]["fileSize"].is_string(),
        "{}",
        refused.body
    );
    assert_eq!(storage.keys("").await, Vec::<String>::new());
}

/// Uploads `bytes` as `content_type` for `who`, completes it and runs the jobs;
/// returns the upload's status data.
async fn upload(app: &TestApp, who: &Session, content_type: &str, bytes: Vec<u8>) -> Value {
    let presigned = presign(app, who, content_type, bytes.len()).await;
    let id = file_id(&presigned);
    put_ok(app, &upload_url(&presigned), content_type, bytes).await;
    complete(app, who, &id).await.data(200);
    app.run_jobs().await;
    app.get(&format!("/api/upload/{id}"), Some(&who.token))
        .await
        .data(200)
        .clone()
}

/// Whether a (lossily encoded) pixel is clearly red.
fn is_red(pixel: &image::Rgb<u8>) -> bool {
    pixel[0] > 150 && pixel[2] < 100
}

/// Whether a (lossily encoded) pixel is clearly blue.
fn is_blue(pixel: &image::Rgb<u8>) -> bool {
    pixel[2] > 150 && pixel[0] < 100
}

/// An EXIF segment (little-endian TIFF) with an orientation and a GPS latitude.
fn exif_segment(orientation: u16) -> Vec<u8> {
    let mut tiff = b"II*\0".to_vec();
    tiff.extend(8u32.to_le_bytes());
    // IFD0: orientation, and the offset of the GPS IFD (8 + 2 + 2·12 + 4 = 38).
    tiff.extend(2u16.to_le_bytes());
    tiff.extend([0x12, 0x01, 3, 0]);
    tiff.extend(1u32.to_le_bytes());
    tiff.extend(u32::from(orientation).to_le_bytes());
    tiff.extend([0x25, 0x88, 4, 0]);
    tiff.extend(1u32.to_le_bytes());
    tiff.extend(38u32.to_le_bytes());
    tiff.extend(0u32.to_le_bytes());
    // GPS IFD: latitude reference "N".
    tiff.extend(1u16.to_le_bytes());
    tiff.extend([1, 0, 2, 0]);
    tiff.extend(2u32.to_le_bytes());
    tiff.extend(*b"N\0\0\0");
    tiff.extend(0u32.to_le_bytes());
    let mut segment = vec![0xFF, 0xE1];
    segment.extend(
        u16::try_from(2 + 6 + tiff.len())
            .expect("short")
            .to_be_bytes(),
    );
    segment.extend(*b"Exif\0\0");
    segment.extend(tiff);
    segment
}

#[tokio::test]
async fn a_rotated_jpeg_with_gps_tags_comes_out_upright_without_metadata() {
    let app = TestApp::new().await;
    let gus = app.register("gus").await;
    // 400×200: red on the left, blue on the right; EXIF says "rotate 90° clockwise".
    let image = image::RgbImage::from_fn(400, 200, |x, _| {
        if x < 200 {
            image::Rgb([230, 20, 20])
        } else {
            image::Rgb([20, 20, 230])
        }
    });
    let jpeg = encode(
        &image::DynamicImage::ImageRgb8(image),
        image::ImageFormat::Jpeg,
    );
    let mut tagged = jpeg[..2].to_vec();
    tagged.extend(exif_segment(6));
    tagged.extend(&jpeg[2..]);
    assert!(tagged.windows(4).any(|window| window == b"Exif"));

    let ready = upload(&app, &gus, "image/jpeg", tagged).await;
    assert_eq!(ready["status"], "READY", "{ready}");
    assert_eq!(
        (ready["width"].as_u64(), ready["height"].as_u64()),
        (Some(200), Some(400)),
        "upright"
    );
    let smallest = &ready["variants"][0];
    assert_eq!(
        (smallest["width"].as_u64(), smallest["height"].as_u64()),
        (Some(150), Some(300))
    );
    let bytes = fetch(&app, smallest["url"].as_str().expect("url")).await;
    assert!(
        !bytes.windows(4).any(|window| window == b"Exif"),
        "no EXIF left"
    );
    let variant = image::load_from_memory(&bytes).expect("decodes").to_rgb8();
    let top = variant.get_pixel(75, 20);
    let bottom = variant.get_pixel(75, 280);
    assert!(is_red(top), "the left (red) is now the top: {top:?}");
    assert!(
        is_blue(bottom),
        "the right (blue) is now the bottom: {bottom:?}"
    );
}

#[tokio::test]
async fn the_same_bytes_uploaded_by_two_people_are_stored_once() {
    let app = TestApp::new().await;
    let hal = app.register("hal").await;
    let ida = app.register("ida").await;
    let bytes = noisy_png(300, 200);
    let first = upload(&app, &hal, "image/png", bytes.clone()).await;
    let second = upload(&app, &ida, "image/png", bytes).await;
    assert_eq!(second["status"], "READY");
    assert_eq!(second["sha256"], first["sha256"]);
    assert_eq!(second["url"], first["url"], "the stored object is reused");
    assert_eq!(second["variants"], first["variants"]);
    let storage = app.storage();
    let ida_files = storage.keys(&format!("uploads/{}/", ida.user_id)).await;
    assert!(
        ida_files.is_empty(),
        "nothing of the second upload is kept: {ida_files:?}"
    );
    let hal_files = storage.keys(&format!("uploads/{}/", hal.user_id)).await;
    let variants = first["variants"].as_array().expect("variants").len();
    assert_eq!(
        hal_files.len(),
        1 + variants,
        "the file and its variants: {hal_files:?}"
    );
}

/// A PNG whose header claims `width × height` (its data would never fill it).
fn bomb_png(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = encode(
        &image::DynamicImage::ImageRgb8(image::RgbImage::new(1, 1)),
        image::ImageFormat::Png,
    );
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

/// CRC-32 (IEEE), as PNG chunks carry it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[tokio::test]
async fn a_decompression_bomb_fails_cleanly_and_leaves_nothing() {
    let app = TestApp::new().await;
    let jo = app.register("joe").await;
    let bomb = bomb_png(60_000, 60_000);
    let failed = upload(&app, &jo, "image/png", bomb).await;
    assert_eq!(failed["status"], "FAILED", "{failed}");
    assert!(
        failed["error"]
            .as_str()
            .is_some_and(|error| error.contains("limits")),
        "{failed}"
    );
    assert_eq!(app.storage().keys("").await, Vec::<String>::new());
}

#[tokio::test]
async fn the_quota_counts_completed_uploads_and_the_rate_limit_applies() {
    let app = TestApp::with_config(|config| {
        config.media.upload_quota_bytes = 300_000;
        config.limits.rate_limit_upload = "4/1h".parse().expect("rate");
    })
    .await;
    let kai = app.register("kai").await;
    let first = noisy_png(300, 200);
    let used = first.len();
    assert!(used > 150_000 && used < 300_000, "{used}");
    upload(&app, &kai, "image/png", first).await;
    let over = presign(&app, &kai, "image/png", 300_000 - used + 1).await;
    over.assert_error(400, "VALIDATION_ERROR");
    assert!(
        over.body["fields"]["fileSize"]
            .as_str()
            .is_some_and(|message| message.contains("quota")),
        "{}",
        over.body
    );
    presign(&app, &kai, "image/png", 300_000 - used)
        .await
        .data(200);
    presign(&app, &kai, "image/png", 10).await.data(200);
    presign(&app, &kai, "image/png", 10)
        .await
        .assert_error(429, "RATE_LIMITED");
}

#[tokio::test]
async fn deleting_an_upload_keeps_bytes_another_upload_shares() {
    let app = TestApp::new().await;
    let lou = app.register("lou").await;
    let max = app.register("max").await;
    let bytes = noisy_png(400, 300);
    let first = upload(&app, &lou, "image/png", bytes.clone()).await;
    let second = upload(&app, &max, "image/png", bytes).await;
    let url = first["url"].as_str().expect("url").to_owned();
    let variant = first["variants"][0]["url"]
        .as_str()
        .expect("variant")
        .to_owned();

    let id = first["id"].as_str().expect("id");
    app.call(
        Method::DELETE,
        &format!("/api/upload/{id}"),
        Some(&max.token),
        None,
    )
    .await
    .assert_error(404, "NOT_FOUND");
    app.call(
        Method::DELETE,
        &format!("/api/upload/{id}"),
        Some(&lou.token),
        None,
    )
    .await
    .data(200);
    fetch(&app, &url).await;
    fetch(&app, &variant).await;

    let id = second["id"].as_str().expect("id");
    app.call(
        Method::DELETE,
        &format!("/api/upload/{id}"),
        Some(&max.token),
        None,
    )
    .await
    .data(200);
    app.get(&local(&url), None)
        .await
        .assert_error(404, "NOT_FOUND");
    assert_eq!(app.storage().keys("").await, Vec::<String>::new());
}

#[tokio::test]
async fn uploads_never_completed_are_removed_by_the_maintenance_schedule() {
    let app = TestApp::new().await;
    let ned = app.register("ned").await;
    let bytes = png(2048);
    let presigned = presign(&app, &ned, "image/png", bytes.len()).await;
    let id = file_id(&presigned);
    put_ok(&app, &upload_url(&presigned), "image/png", bytes).await;
    let pending = format!("pending/{id}");
    assert!(app.storage().read(&pending).await.is_some());
    let fresh = presign(&app, &ned, "image/png", 10).await;
    let fresh_id = file_id(&fresh);

    // A second PUT to the URL of a completed upload: the server refuses it; a bucket
    // takes it, and the bytes wait in `pending/` until the purge.
    let image = noisy_png(64, 64);
    let completed = presign(&app, &ned, "image/png", image.len()).await;
    let completed_url = upload_url(&completed);
    let completed_id = file_id(&completed);
    put_ok(&app, &completed_url, "image/png", image.clone()).await;
    complete(&app, &ned, &completed_id).await.data(200);
    let again = put(
        &app,
        &completed_url,
        "image/png",
        image.len(),
        image.clone(),
    )
    .await;
    let left_over = format!("pending/{completed_id}");
    if uses_s3() {
        assert_eq!(again.status.as_u16(), 200, "{}", again.body);
        assert!(app.storage().read(&left_over).await.is_some());
    } else {
        again.assert_error(403, "FORBIDDEN");
        // Bytes left over from long ago, as a bucket would keep them.
        app.storage().write(&left_over, image).await;
        let file = std::fs::File::options()
            .write(true)
            .open(
                app.state
                    .config
                    .server
                    .data_dir
                    .join("media")
                    .join(&left_over),
            )
            .expect("the left-over file");
        file.set_modified(std::time::SystemTime::now() - Duration::from_secs(3 * 3600))
            .expect("age the file");
    }

    entity::media::Entity::update_many()
        .col_expr(
            entity::media::Column::CreatedAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::TimeDelta::hours(3)),
        )
        .filter(entity::media::Column::Id.eq(&id))
        .exec(&app.state.writer)
        .await
        .expect("age the upload");
    let mut write = sparkle_universe::domain::effects::Write::begin(&app.state)
        .await
        .expect("begin");
    write
        .enqueue(sparkle_universe::jobs::Job::PurgeAbandonedUploads)
        .await
        .expect("enqueue");
    write.commit().await.expect("commit");
    app.run_jobs().await;
    app.get(&format!("/api/upload/{id}"), Some(&ned.token))
        .await
        .assert_error(404, "NOT_FOUND");
    assert!(app.storage().read(&pending).await.is_none());
    app.get(&format!("/api/upload/{fresh_id}"), Some(&ned.token))
        .await
        .data(200);
    // Old left-over bytes go; recent ones (in a bucket, which cannot be aged here)
    // wait for a later purge.
    assert_eq!(
        app.storage().read(&left_over).await.is_some(),
        uses_s3(),
        "{left_over}"
    );
}

#[tokio::test]
async fn the_graphql_twins_upload_complete_and_read_a_file() {
    let app = TestApp::new().await;
    let oli = app.register("oli").await;
    let bytes = noisy_png(200, 100);
    let requested = app
        .graphql(
            "mutation($input: PresignInput!) { requestUpload(input: $input) { uploadUrl fileId key expiresAt } }",
            json!({ "input": { "filename": "pic.png", "contentType": "image/png", "fileSize": bytes.len() } }),
            Some(&oli.token),
        )
        .await;
    let requested = &requested.body["data"]["requestUpload"];
    let url = requested["uploadUrl"].as_str().expect("uploadUrl");
    let id = requested["fileId"].as_str().expect("fileId");
    put_ok(&app, url, "image/png", bytes).await;
    let completed = app
        .graphql(
            "mutation($id: ID!) { completeUpload(id: $id) { status } }",
            json!({ "id": id }),
            Some(&oli.token),
        )
        .await;
    assert_eq!(
        completed.body["data"]["completeUpload"]["status"], "PROCESSING",
        "{}",
        completed.body
    );
    app.run_jobs().await;
    let read = app
        .graphql(
            "query($id: ID!) { upload(id: $id) { id status kind width height blurhash variants { width height contentType url } createdAt } }",
            json!({ "id": id }),
            Some(&oli.token),
        )
        .await;
    let media = &read.body["data"]["upload"];
    assert_eq!(media["status"], "READY", "{}", read.body);
    assert_eq!(media["kind"], "IMAGE");
    assert_eq!(
        (media["width"].as_u64(), media["height"].as_u64()),
        (Some(200), Some(100))
    );
    assert_eq!(media["variants"][0]["width"], 150);
    let rest = app
        .get(&format!("/api/upload/{id}"), Some(&oli.token))
        .await;
    assert_eq!(rest.data(200)["blurhash"], media["blurhash"]);
}

#[tokio::test]
async fn documents_are_stored_without_variants_and_animations_keep_their_first_frame() {
    let app = TestApp::new().await;
    let pam = app.register("pam").await;
    let mut pdf =
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
            .to_vec();
    pdf.resize(4096, b' ');
    let document = upload(&app, &pam, "application/pdf", pdf.clone()).await;
    assert_eq!(document["status"], "READY", "{document}");
    assert_eq!(document["kind"], "DOCUMENT");
    assert_eq!(document["variants"], json!([]));
    assert!(document["blurhash"].is_null());
    let served = fetch(&app, document["url"].as_str().expect("url")).await;
    assert_eq!(served, pdf);

    // Two frames: red, then blue.
    let frame = |rgb: [u8; 3]| {
        image::Frame::new(image::RgbaImage::from_pixel(
            300,
            150,
            image::Rgba([rgb[0], rgb[1], rgb[2], 255]),
        ))
    };
    let mut gif = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut gif);
        encoder
            .encode_frames([frame([230, 20, 20]), frame([20, 20, 230])])
            .expect("encode frames");
    }
    let animation = upload(&app, &pam, "image/gif", gif).await;
    assert_eq!(animation["status"], "READY", "{animation}");
    let smallest = &animation["variants"][0];
    assert_eq!(
        (smallest["width"].as_u64(), smallest["height"].as_u64()),
        (Some(150), Some(75))
    );
    let bytes = fetch(&app, smallest["url"].as_str().expect("url")).await;
    let first_frame = image::load_from_memory(&bytes).expect("decodes").to_rgb8();
    let pixel = first_frame.get_pixel(75, 37);
    assert!(is_red(pixel), "the first (red) frame: {pixel:?}");
}

#[tokio::test]
async fn the_uploader_hears_when_processing_ends() {
    let app = TestApp::new().await;
    let address = app.serve().await;
    let quin = app.register("quinn").await;
    let mut socket = WsClient::connect(address, Protocol::TransportWs, Some(&quin.token))
        .await
        .expect("connect");
    socket
        .subscribe(
            "media",
            "subscription { mediaProcessed { id status width variants { width } } }",
            json!({}),
        )
        .await;
    let mut anonymous = WsClient::connect(address, Protocol::TransportWs, None)
        .await
        .expect("connect");
    anonymous
        .subscribe("media", "subscription { mediaProcessed { id } }", json!({}))
        .await;
    let refused = anonymous.next_errors("media").await;
    assert_eq!(
        refused[0]["extensions"]["code"], "UNAUTHORIZED",
        "{refused}"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;

    let ready = upload(&app, &quin, "image/png", noisy_png(320, 160)).await;
    let heard = socket.next_data("media").await;
    assert_eq!(
        heard["mediaProcessed"],
        json!({ "id": ready["id"], "status": "READY", "width": 320, "variants": [{ "width": 150 }, { "width": 320 }] })
    );
    let failed = upload(&app, &quin, "image/png", bomb_png(50_000, 50_000)).await;
    let heard = socket.next_data("media").await;
    assert_eq!(heard["mediaProcessed"]["id"], failed["id"]);
    assert_eq!(heard["mediaProcessed"]["status"], "FAILED");
}

#[tokio::test]
async fn with_a_cdn_files_are_addressed_through_it() {
    let app = TestApp::with_config(|config| {
        config.media.cdn_url = Some("https://cdn.sparkle.test/".into())
    })
    .await;
    let quinn = app.register("quinn").await;
    let ready = upload(&app, &quinn, "image/png", noisy_png(400, 200)).await;
    let id = ready["id"].as_str().expect("id");
    let expected = format!("https://cdn.sparkle.test/uploads/{}/{id}/", quinn.user_id);
    assert_eq!(
        ready["url"],
        json!(format!("{expected}my-photo.png")),
        "{ready}"
    );
    let variants = ready["variants"].as_array().expect("variants");
    assert!(!variants.is_empty());
    for variant in variants {
        let url = variant["url"].as_str().expect("url");
        assert!(url.starts_with(&expected), "{url}");
        // The CDN's origin serves the same key.
        let key = url.trim_start_matches("https://cdn.sparkle.test/");
        let served = fetch(&app, &format!("/media/{key}")).await;
        assert!(image::load_from_memory(&served).is_ok());
    }
}

#[tokio::test]
async fn an_uploaded_image_is_a_post_cover_and_an_avatar_in_both_apis() {
    let app = TestApp::new().await;
    let rae = app.register("rae").await;
    let sid = app.register("sid").await;
    let image = upload(&app, &rae, "image/png", noisy_png(700, 350)).await;
    let media_id = image["id"].as_str().expect("id").to_owned();
    let url = image["url"].as_str().expect("url").to_owned();

    // Only the owner's READY images may be named.
    let pending = file_id(&presign(&app, &rae, "image/png", 100).await);
    let document = upload(&app, &rae, "application/pdf", {
        let mut pdf = b"%PDF-1.4\n%%EOF\n".to_vec();
        pdf.resize(512, b' ');
        pdf
    })
    .await;
    let document_id = document["id"].as_str().expect("id").to_owned();
    for (who, cover) in [
        (&sid, media_id.as_str()),
        (&rae, pending.as_str()),
        (&rae, document_id.as_str()),
        (&rae, "not a url"),
    ] {
        let refused = app
            .post(
                "/api/posts",
                Some(&who.token),
                json!({ "title": "Cover", "content": "Text.", "coverImage": cover }),
            )
            .await;
        refused.assert_error(400, "VALIDATION_ERROR");
        assert!(
            refused.body["fields"]["coverImage"].is_string(),
            "{}",
            refused.body
        );
    }

    let post = app
        .create_post(
            &rae.token,
            json!({ "title": "With a cover", "content": "Text.", "coverImage": media_id, "published": true }),
        )
        .await;
    assert_eq!(post["coverImage"], json!(url));
    let cover = &post["coverImageMedia"];
    assert_eq!(cover["id"], json!(media_id));
    assert_eq!(cover["url"], json!(url));
    assert_eq!(
        (cover["width"].as_u64(), cover["height"].as_u64()),
        (Some(700), Some(350))
    );
    assert!(cover["blurhash"].is_string());
    assert_eq!(cover["variants"], image["variants"]);
    let listed = app.get("/api/posts", None).await;
    assert_eq!(listed.data(200)["items"][0]["coverImageMedia"], *cover);
    let read = app
        .graphql(
            "query($id: String!) { post(by: {id: $id}) { coverImage coverImageMedia { id url width height variants { width url } } } }",
            json!({ "id": post["id"] }),
            None,
        )
        .await;
    let graphql_cover = &read.body["data"]["post"];
    assert_eq!(graphql_cover["coverImage"], json!(url), "{}", read.body);
    assert_eq!(graphql_cover["coverImageMedia"]["id"], json!(media_id));
    assert_eq!(graphql_cover["coverImageMedia"]["width"], 700);
    assert_eq!(
        graphql_cover["coverImageMedia"]["variants"][0]["url"],
        image["variants"][0]["url"]
    );

    // The avatar, through REST and GraphQL.
    let edited = app
        .call(
            Method::PATCH,
            "/api/users/me",
            Some(&rae.token),
            Some(json!({ "image": media_id })),
        )
        .await;
    assert_eq!(edited.data(200)["image"], json!(url), "{}", edited.body);
    let profile = app.get("/api/users/rae", None).await;
    let user = profile.data(200);
    assert_eq!(user["image"], json!(url));
    assert_eq!(user["imageMedia"]["id"], json!(media_id));
    let me = app
        .graphql(
            "{ me { image imageMedia { id blurhash } } }",
            json!({}),
            Some(&rae.token),
        )
        .await;
    assert_eq!(
        me.body["data"]["me"]["imageMedia"]["id"],
        json!(media_id),
        "{}",
        me.body
    );
    app.call(
        Method::PATCH,
        "/api/users/me",
        Some(&sid.token),
        Some(json!({ "image": media_id })),
    )
    .await
    .assert_error(400, "VALIDATION_ERROR");

    // Deleting the upload takes the cover and the avatar with it.
    app.call(
        Method::DELETE,
        &format!("/api/upload/{media_id}"),
        Some(&rae.token),
        None,
    )
    .await
    .data(200);
    let post = app
        .get(
            &format!("/api/posts/{}", post["slug"].as_str().expect("slug")),
            None,
        )
        .await;
    let post = post.data(200);
    assert!(
        post["coverImage"].is_null() && post["coverImageMedia"].is_null(),
        "{post}"
    );
    let profile = app.get("/api/users/rae", None).await;
    let user = profile.data(200);
    assert!(
        user["image"].is_null() && user["imageMedia"].is_null(),
        "{user}"
    );
}

#[tokio::test]
async fn ready_reports_a_bucket_that_cannot_be_reached() {
    let app = TestApp::with_config(|config| {
        let media = &mut config.media;
        media.s3_bucket = Some("uploads".into());
        media.s3_endpoint = Some("http://127.0.0.1:1".into());
        media.s3_access_key_id = Some("key".into());
        media.s3_secret_access_key = Some("bucket-secret".parse().expect("secret"));
    })
    .await;
    let ready = app.get("/ready", None).await;
    assert_eq!(
        ready.status.as_u16(),
        200,
        "all but uploads works: still ready"
    );
    assert_eq!(ready.body["status"], "degraded", "{}", ready.body);
    assert_eq!(
        ready.body["uploads"],
        json!({ "storage": "s3", "reachable": false })
    );
    assert!(!ready.body.to_string().contains("bucket-secret"));

    let healthy = TestApp::new().await;
    let ready = healthy.get("/ready", None).await;
    assert_eq!(ready.body["status"], "ready", "{}", ready.body);
    let storage = if uses_s3() { "s3" } else { "local" };
    assert_eq!(
        ready.body["uploads"],
        json!({ "storage": storage, "reachable": true })
    );
}

#[tokio::test]
async fn completing_one_upload_many_times_at_once_completes_it_once() {
    let app = TestApp::with_file_database().await;
    let uma = app.register("uma").await;
    let bytes = noisy_png(300, 200);
    let presigned = presign(&app, &uma, "image/png", bytes.len()).await;
    let id = file_id(&presigned);
    put_ok(&app, &upload_url(&presigned), "image/png", bytes).await;
    let attempts = futures_util::future::join_all((0..8).map(|_| complete(&app, &uma, &id))).await;
    let mut statuses: Vec<u16> = attempts.iter().map(|done| done.status.as_u16()).collect();
    statuses.sort();
    assert_eq!(
        statuses,
        [200, 409, 409, 409, 409, 409, 409, 409],
        "{:?}",
        attempts.iter().map(|a| &a.body).collect::<Vec<_>>()
    );
    for refused in attempts.iter().filter(|done| done.status.as_u16() == 409) {
        refused.assert_error(409, "CONFLICT");
    }
    app.run_jobs().await;
    let ready = app
        .get(&format!("/api/upload/{id}"), Some(&uma.token))
        .await;
    assert_eq!(ready.data(200)["status"], "READY");
}

#[tokio::test]
async fn a_copy_deleted_while_the_same_bytes_are_processed_is_not_reused() {
    let app = TestApp::with_file_database().await;
    let vic = app.register("vic").await;
    let wes = app.register("wes").await;
    let bytes = noisy_png(400, 300);
    let original = upload(&app, &vic, "image/png", bytes.clone()).await;
    let presigned = presign(&app, &wes, "image/png", bytes.len()).await;
    let id = file_id(&presigned);
    put_ok(&app, &upload_url(&presigned), "image/png", bytes).await;
    complete(&app, &wes, &id).await.data(200);

    // The original is being deleted (its row, in a transaction not yet committed)
    // while the second upload is processed.
    let deleting = app.state.begin_write().await.expect("begin");
    let original_id = original["id"].as_str().expect("id");
    sea_orm::ConnectionTrait::execute_unprepared(
        &deleting,
        &format!("DELETE FROM media WHERE id = '{original_id}'"),
    )
    .await
    .expect("delete the original");
    let state = app.state.clone();
    let processing_id = id.clone();
    let processing = tokio::spawn(async move {
        sparkle_universe::media::uploads::process(&state, &processing_id).await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    deleting.commit().await.expect("commit");
    let storage = &app.state.media.storage;
    for url in std::iter::once(&original["url"]).chain(
        original["variants"]
            .as_array()
            .expect("variants")
            .iter()
            .map(|variant| &variant["url"]),
    ) {
        let key = url
            .as_str()
            .expect("url")
            .trim_start_matches(&format!("{PUBLIC_URL}/media/"));
        storage
            .delete(key)
            .await
            .expect("remove the original's bytes");
    }
    processing.await.expect("join").expect("processed");

    let ready = app
        .get(&format!("/api/upload/{id}"), Some(&wes.token))
        .await;
    let ready = ready.data(200);
    assert_eq!(ready["status"], "READY", "{ready}");
    assert_ne!(ready["url"], original["url"], "its own copy is kept");
    fetch(&app, ready["url"].as_str().expect("url")).await;
    fetch(&app, ready["variants"][0]["url"].as_str().expect("url")).await;
}

/// The status, headers and bytes of `url`, asked with `Range: range` if given.
async fn fetch_range(
    app: &TestApp,
    url: &str,
    range: Option<&str>,
) -> (u16, axum::http::HeaderMap, Vec<u8>) {
    let mut request = Request::builder().uri(local(url));
    if let Some(range) = range {
        request = request.header("range", range);
    }
    let (status, headers, bytes) = app
        .send_raw(request.body(Body::empty()).expect("request"))
        .await;
    (status.as_u16(), headers, bytes)
}

#[tokio::test]
async fn a_video_is_stored_typed_and_served_in_ranges_for_seeking() {
    let app = TestApp::new().await;
    let xia = app.register("xia").await;
    let mut video = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom".to_vec();
    video.extend((0..5000u32).map(|index| (index % 251) as u8));
    let ready = upload(&app, &xia, "video/mp4", video.clone()).await;
    assert_eq!(ready["status"], "READY", "{ready}");
    assert_eq!(ready["kind"], "VIDEO");
    assert_eq!(ready["sha256"], hex::encode(Sha256::digest(&video)));
    assert_eq!(ready["variants"], json!([]));
    let url = ready["url"].as_str().expect("url");
    let size = video.len();

    let (status, headers, whole) = fetch_range(&app, url, Some("items=0-1")).await;
    assert_eq!((status, whole.len()), (200, size));
    assert_eq!(headers["accept-ranges"], "bytes");
    assert_eq!(headers["content-type"], "video/mp4");
    let (status, headers, part) = fetch_range(&app, url, Some("bytes=100-199")).await;
    assert_eq!(status, 206);
    assert_eq!(
        headers["content-range"],
        format!("bytes 100-199/{size}").as_str()
    );
    assert_eq!(part, video[100..200]);
    let (status, _, tail) = fetch_range(&app, url, Some("bytes=-10")).await;
    assert_eq!((status, tail.as_slice()), (206, &video[size - 10..]));
    let (status, _, rest) = fetch_range(&app, url, Some(&format!("bytes={}-", size - 3))).await;
    assert_eq!((status, rest.as_slice()), (206, &video[size - 3..]));
    let (status, headers, nothing) = fetch_range(&app, url, Some(&format!("bytes={size}-"))).await;
    assert_eq!(status, 416);
    assert_eq!(headers["content-range"], format!("bytes */{size}").as_str());
    assert!(nothing.is_empty());
}

#[test]
fn bad_s3_settings_stop_the_server_with_a_clear_message() {
    use sparkle_universe::{error::AppError, media::storage::Storage};
    let message = |adjust: &dyn Fn(&mut sparkle_universe::Config)| {
        let mut config = crate::support::test_config();
        config.media.s3_bucket = Some("uploads".into());
        config.media.s3_endpoint = Some("http://127.0.0.1:1".into());
        adjust(&mut config);
        match Storage::new(&config) {
            Err(AppError::Internal(message)) => message,
            Err(other) => panic!("{other:?}"),
            Ok(_) => panic!("accepted"),
        }
    };
    assert!(message(&|_| {}).contains("S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY"));
    let with_keys_and_prefix = |config: &mut sparkle_universe::Config| {
        config.media.s3_access_key_id = Some("key".into());
        config.media.s3_secret_access_key = Some("secret".parse().expect("secret"));
        config.media.s3_prefix = Some("../elsewhere".into());
    };
    let refused = message(&with_keys_and_prefix);
    assert!(refused.contains("S3_PREFIX"), "{refused}");
    assert!(!refused.contains("secret"), "{refused}");
}

#[tokio::test]
async fn two_uploads_completed_at_once_cannot_both_pass_the_quota() {
    let app = TestApp::with_file_database_and_config(|config| {
        config.media.upload_quota_bytes = 300_000;
    })
    .await;
    let yan = app.register("yan").await;
    let mut ids = Vec::new();
    for seed in 0..2u32 {
        let bytes = noisy_png(300 + seed, 200);
        assert!(bytes.len() > 150_000, "{}", bytes.len());
        let presigned = presign(&app, &yan, "image/png", bytes.len()).await;
        put_ok(&app, &upload_url(&presigned), "image/png", bytes).await;
        ids.push(file_id(&presigned));
    }
    let (first, second) =
        tokio::join!(complete(&app, &yan, &ids[0]), complete(&app, &yan, &ids[1]));
    let mut statuses = [first.status.as_u16(), second.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 400], "{} {}", first.body, second.body);
    let (refused, refused_id) = if first.status.as_u16() == 400 {
        (&first, &ids[0])
    } else {
        (&second, &ids[1])
    };
    assert!(
        refused.body["fields"]["fileSize"]
            .as_str()
            .is_some_and(|message| message.contains("quota")),
        "{}",
        refused.body
    );
    // The refused file is removed; the other one stays.
    app.run_jobs().await;
    let stored = app
        .storage()
        .keys(&format!("uploads/{}/", yan.user_id))
        .await;
    assert!(!stored.is_empty());
    assert!(
        stored.iter().all(|key| !key.contains(refused_id.as_str())),
        "{stored:?}"
    );
}
