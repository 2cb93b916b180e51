"""The checkpoint auditor behind `vaeaudit checkpoints report|inspect`, in pipeline order.

Finding runs:      run_tree (folders, logs, READMEs), categories (name rules), settings
Loading one file:  safe_load, which runs sniff -> zipcheck -> pickle_scan -> torch.load(weights_only=True)
Judging one file:  file_audit, using fields (layout/metric aliases), tensors, architecture, metric_checks
Judging runs:      run_status (complete/partial/crashed/empty), cross_run (duplicates, learned nothing)
Whole tree:        tree_audit -> records (FileRecord, RunRecord, Problem)
Output:            report (Markdown via templates/checkpoints.md.j2, JSON, CSV), rankings, plot,
                   describe (inspect), terminal (control characters made visible)
"""
