//! A browser with cookies and JavaScript off, for the server-rendered pages: GETs, form
//! POSTs with the page's CSRF field, and `multipart/form-data` uploads (a file input).

use std::collections::BTreeMap;

use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};

use super::{TestApp, STAFF_PASSWORD};

pub struct Browser {
    pub client: Client,
    pub base: String,
    pub cookies: BTreeMap<String, String>,
    /// The `Accept-Language` it sends, if any.
    pub lang: Option<&'static str>,
    /// The CSRF field of the last page it showed (forms are submitted with it).
    csrf: Option<String>,
}

/// An answer as the browser saw it (redirects are not followed).
pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub content_type: String,
    pub body: String,
}

impl Browser {
    pub fn new(app: &TestApp) -> Self {
        let client = Client::builder().redirect(Policy::none()).build().unwrap();
        Self {
            client,
            base: app.base.clone(),
            cookies: BTreeMap::new(),
            lang: None,
            csrf: None,
        }
    }

    /// The `Cookie` header it sends.
    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Sends a request with the browser's cookies, and keeps the cookies the answer sets.
    /// Like a browser, it then shows the page a redirect leads to (so that the next form is
    /// submitted with that page's CSRF field); the redirect itself is what is returned.
    pub async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let page = self.send_once(req).await;
        let mut location = page.location.clone();
        for _ in 0..3 {
            let Some(to) = location.filter(|l| l.starts_with('/')) else {
                break;
            };
            let req = self.client.get(format!("{}{to}", self.base));
            location = self.send_once(req).await.location;
        }
        page
    }

    async fn send_once(&mut self, req: reqwest::RequestBuilder) -> Page {
        let mut req = req.header("cookie", self.cookie_header());
        if let Some(lang) = self.lang {
            req = req.header("accept-language", lang);
        }
        let r = req.send().await.unwrap();
        let mut set_cookies = Vec::new();
        for c in r.headers().get_all("set-cookie") {
            let c = c.to_str().unwrap().to_string();
            let (pair, attrs) = c.split_once(';').unwrap_or((&c, ""));
            let (k, v) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), v.to_string());
            }
            set_cookies.push(c.clone());
        }
        let header = |name: &str| {
            r.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
        };
        let location = header("location");
        let content_type = header("content-type").unwrap_or_default();
        let status = r.status();
        let body = r.text().await.unwrap_or_default();
        if let Some((_, rest)) = body.split_once("name=\"csrf\" value=\"") {
            self.csrf = rest.split('"').next().map(str::to_string);
        }
        Page {
            status,
            location,
            set_cookies,
            content_type,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let req = self.client.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    /// The CSRF field of the page last shown.
    pub fn csrf(&self) -> String {
        self.csrf.clone().unwrap_or_default()
    }

    /// Submits a form the way a browser does: with the page's CSRF field.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.csrf();
        let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf)];
        form.extend_from_slice(fields);
        let req = self.client.post(format!("{}{path}", self.base)).form(&form);
        self.send(req).await
    }

    /// Submits a `multipart/form-data` form (a file input), with the CSRF field.
    pub async fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &[u8])],
    ) -> Page {
        const BOUNDARY: &str = "----propuskTestBoundary7MA4YWxk";
        let mut body = Vec::new();
        let csrf = self.csrf();
        for (name, value) in [("csrf", csrf.as_str())].iter().chain(fields) {
            body.extend_from_slice(
                format!(
                    "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
                .as_bytes(),
            );
        }
        for (name, bytes) in files {
            body.extend_from_slice(
                format!(
                    "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"photo.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(body);
        self.send(req).await
    }

    /// Signs a health officer (made by [`TestApp::add_staff`]) in through the form.
    pub async fn sign_in_officer(&mut self, username: &str) {
        self.get("/health/sign-in").await;
        let page = self
            .post(
                "/health/sign-in",
                &[("username", username), ("password", STAFF_PASSWORD)],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert_eq!(page.location.as_deref(), Some("/health/queue"));
    }
}

/// The pages run no inline script or style (the CSP forbids them).
pub fn assert_no_inline_script(html: &str) {
    for tag in html.split("<script").skip(1) {
        let head = tag.split('>').next().unwrap();
        assert!(head.contains("src="), "inline script: <script{head}>");
    }
    assert!(!html.contains(" style="), "inline style attribute");
    assert!(!html.contains(" onclick="), "inline handler");
}

/// A real JPEG as a phone camera would make (the pages decode every photo).
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let picture =
        image::RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 128]));
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgb8(picture)
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    bytes
}
