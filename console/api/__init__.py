"""The AML JSON API (AWS JSON 1.1, `AmazonML_20141212.<Operation>`), signed with SigV4.

`views.api` receives every call, `auth` verifies the signature and finds the user, `shapes`
checks the input against botocore's service model, `operations` calls the same services the
wizards call, and `outputs` shapes their objects as AML's Get*/Describe* outputs.
"""
