"""The compute tier: instances that run TAP's health service behind the load balancers.

So far: the versioned artifact the instances install and the user data that installs it
(`artifact.py`); the service itself is `app/health_service.py`.
"""
