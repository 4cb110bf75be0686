"""The plugin marketplace: authors publish listings of their plugins and
versions of them; an operator reviews; anyone browses what is published; stores
install what is available on the deployment and review what they installed.
"""
