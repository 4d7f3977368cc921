-- wrk script: every request is the proof of concept's call (POST execute_kernel, 4 bytes in).
-- Replies are not checked here (tests/hyperbeam/run.sh does that under load); a reply that is
-- not 200 is counted by wrk as a non-2xx response, which overhead.sh reports.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"kernel_id": "btSvNclyu2me_zGh4X9ULVRZqwze9l2DpkcVHcLw9Eg", "input_data": [1,3,5,7], "output_size_hint": 1}'
