"""The job-queue port on streaq: the one driven adapter that implements an application port.

`streaq_job_queue` enqueues at the catalogue's priority and keeps the api's connection;
`streaq_operator` reads the queue's figures and mounts streaq's UI for `/admin`. With
`core/streaq_broker` (the Worker itself) these are the only modules that name streaq. It sits
with the driving adapters, above `application/` whose port it implements, and like them it is
wired by the entry points alone (`mus.main`, `mus.worker`).
"""
