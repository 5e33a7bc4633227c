"""`vigil demo`: the real Vigil plays a T&S week against an in-process fake Slack and a fake
enforcement API, with no Slack workspace, no tokens and no network.

scenes.py   the week, one small function per scene (a capability adds its own)
stage.py    the running app between the fakes, signed requests, the accelerated clock
transcript.py  what people did and what Vigil said, read back from the fake Slack
html.py     demo.html, the transcript as a self-contained Slack-like page
runner.py   plays the scenes, shows them with rich, writes charts and the page
"""
