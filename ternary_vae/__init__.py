"""The ternary VAE: Poincaré geometry, data, model, losses, metrics and the trainer.

`geometry` is pure math and imports only torch; the rest builds on it. `vaeaudit train`
(audit/commands/train.py) drives `train.train`; the checkpoint auditor rebuilds
`model.build_model` to check saved state dicts.
"""
