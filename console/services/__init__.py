"""Business operations, one function per AML operation, named like the boto3 method.

Views, the JSON API and tests all call these; nothing else creates or changes AML objects.
"""
