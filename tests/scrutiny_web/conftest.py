from tests.scoring_web.conftest import area, client_for, immediate_tasks, policy, run  # noqa: F401
