pytest_plugins = ["devstack.pytest_plugin", "devstack.pytest_gateway"]
