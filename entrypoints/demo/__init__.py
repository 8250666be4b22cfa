"""`almabridge demo`: the bridge end to end on one machine, with no configuration needed.

`scenario` plays Alma against the real service; `servers` starts the fake Alma, the SFTP server
and the service in-process; `setup` writes the run's conf.json; `alma_files` and `webhooks`
build what Alma would send; `scf_desk` does what SCF staff would; `report` reads the ledger back.
`west_step` and `oclc_step` run two batch workflows on the same fake Alma and ledger: a WEST
holdings export, and the OCLC data-sync merge of the reference inputs.
"""

from entrypoints.demo.scenario import DemoOutcome, run_demo

__all__ = ["DemoOutcome", "run_demo"]
