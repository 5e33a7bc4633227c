"""In-process fakes of the outside systems, served over real HTTP on a loopback port: Slack's
Web API (`slack.FakeSlack`) and the platform's enforcement API (`enforcement.FakeEnforcement`).

They ship in the package because `vigil demo` runs the real app against them with no Slack
workspace and no network; the test harness imports them from here too.
"""
