"""The checkpoint auditor behind `vaeaudit checkpoints report|inspect|organize`, in pipeline order.

Finding runs:      run_tree (folders; every file audited or listed with why), categories (name rules), settings
Loading one file:  safe_load, which runs sniff -> pickle_sources (every pickle in any container: zipcheck,
                   pickle_scan) -> import_policy (allowlist, dangerous set) -> torch.load(weights_only=True);
                   budget bounds the time one file may take, bounded the text made of its values
Judging one file:  file_audit, using fields (layouts), metric_names (the alias table), tensors, architecture,
                   metric_checks
Judging runs:      run_status (the status table), cross_run (duplicates, learned nothing), recompute (one
                   yardstick: definitions names the definition set)
Whole tree:        tree_audit -> records (FileRecord, RunRecord, Problem)
Output:            report (Markdown via templates/checkpoints.md.j2, JSON, CSV), rankings, plot,
                   describe (inspect), terminal (control characters made visible), run_readme (run READMEs via
                   templates/run_readme.md.j2), organize (production/ archive/ quarantine/, manifest, undo)
"""
