-- wrk script: send every request as a POST with a JSON body.
-- The body comes from the BENCH_BODY environment variable (set by bench/run.sh),
-- so the query text lives in one place only.
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY") or error("BENCH_BODY is not set")
wrk.headers["Content-Type"] = "application/json"
