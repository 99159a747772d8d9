-- wrk script for bench/writes.sh: authenticated writes of one kind.
-- BENCH_MODE=comment: POST a comment on BENCH_POST.
-- BENCH_MODE=reaction: give (PUT) and take back (DELETE) a reaction on BENCH_POST, in turn.
local mode = os.getenv("BENCH_MODE") or error("BENCH_MODE is not set")
local post = os.getenv("BENCH_POST") or error("BENCH_POST is not set")
local tokens = {}
for token in string.gmatch(os.getenv("BENCH_TOKENS") or error("BENCH_TOKENS is not set"), "[^,]+") do
    tokens[#tokens + 1] = token
end

local counter = 0
local thread_offset = 0

function init(args)
    -- Connections of one wrk thread share this state; spread them over the accounts.
    thread_offset = math.random(#tokens)
end

function request()
    counter = counter + 1
    local token = tokens[(counter + thread_offset) % #tokens + 1]
    local headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
    if mode == "comment" then
        return wrk.format("POST", "/api/posts/" .. post .. "/comments", headers,
            '{"content":"A benchmark comment ' .. counter .. '"}')
    end
    local path = "/api/posts/" .. post .. "/reactions"
    if math.floor(counter / #tokens) % 2 == 0 then
        return wrk.format("PUT", path, headers, '{"type":"LIKE"}')
    end
    return wrk.format("DELETE", path, headers, nil)
end
