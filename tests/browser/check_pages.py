"""GraphiQL and the API docs in a real browser (headless Chromium through Selenium).

Usage: python3 tests/browser/check_pages.py BASE_URL ARTEFACT_DIR

GraphiQL must load the schema into its documentation explorer and run a query; the
docs page must render and send GET /api/posts from its API client. Every request
either page makes must stay on the server's origin. Screenshots go to ARTEFACT_DIR.
Run by .ci/run (Debian's chromium and chromium-driver, selenium from PyPI).
"""

import json
import sys
from urllib.parse import urlparse

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as until
from selenium.webdriver.support.ui import WebDriverWait

WAIT_SECONDS = 30


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def requested_urls(driver):
    """Every URL the page asked for since the last call."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def off_origin(urls, base):
    origin = urlparse(base)
    return [
        url
        for url in urls
        if urlparse(url).scheme not in ("data", "blob", "about")
        and (urlparse(url).hostname, urlparse(url).port) != (origin.hostname, origin.port)
    ]


def check_graphiql(driver, base, artefacts):
    wait = WebDriverWait(driver, WAIT_SECONDS)
    driver.get(f"{base}/graphql")
    wait.until(until.presence_of_element_located((By.CSS_SELECTOR, ".graphiql-container")))
    driver.find_element(By.CSS_SELECTOR, 'button[aria-label="Show Documentation Explorer"]').click()
    wait.until(
        lambda d: "Query" in d.find_element(By.CSS_SELECTOR, ".graphiql-doc-explorer").text
    )
    driver.execute_script(
        "document.querySelector('.graphiql-query-editor .CodeMirror')"
        ".CodeMirror.setValue('{ categories { id name } }')"
    )
    driver.find_element(By.CSS_SELECTOR, "button.graphiql-execute-button").click()
    wait.until(
        lambda d: '"categories"'
        in d.execute_script(
            "return document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue()"
        )
    )
    driver.save_screenshot(f"{artefacts}/graphiql.png")
    print("GraphiQL: schema loaded in the docs explorer, query answered")


def check_docs(driver, base, artefacts):
    wait = WebDriverWait(driver, WAIT_SECONDS)
    driver.get(f"{base}/api/docs#tag/posts/GET/api/posts")
    wait.until(lambda d: "List posts" in d.find_element(By.TAG_NAME, "body").text)
    # The "Test Request" button of the "List posts" operation opens Scalar's API client.
    opened = False
    for button in driver.find_elements(By.CSS_SELECTOR, ".show-api-client-button"):
        sections = button.find_elements(By.XPATH, "./ancestor::section[1]")
        if sections and sections[0].text.startswith("List posts"):
            driver.execute_script("arguments[0].scrollIntoView(); arguments[0].click();", button)
            opened = True
            break
    if not opened:
        raise AssertionError("no Test Request button for List posts")
    send = wait.until(
        lambda d: next(
            (b for b in d.find_elements(By.TAG_NAME, "button") if b.text.strip().startswith("Send")),
            False,
        )
    )
    driver.execute_script("arguments[0].click();", send)
    wait.until(lambda d: "200 OK" in d.find_element(By.TAG_NAME, "body").text)
    wait.until(lambda d: '"totalPages"' in d.find_element(By.TAG_NAME, "body").text)
    driver.save_screenshot(f"{artefacts}/docs.png")
    print("API docs: GET /api/posts sent from the API client, 200 OK with a page of posts")


def main():
    base, artefacts = sys.argv[1].rstrip("/"), sys.argv[2]
    driver = browser()
    try:
        for check in (check_graphiql, check_docs):
            check(driver, base, artefacts)
            leaving = off_origin(requested_urls(driver), base)
            if leaving:
                raise AssertionError(f"{check.__name__}: requests left the origin: {leaving}")
        print("browser checks passed; no request left the origin")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
