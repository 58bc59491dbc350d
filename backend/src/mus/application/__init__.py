"""Use cases (scan, analysis, doctor) and the job-queue port with its catalogue.

Callers say `enqueue(task_name, **kwargs)`; the catalogue knows each job's queue. The
application drives the edge (`mus.adapters`) and never imports what drives it.
"""
