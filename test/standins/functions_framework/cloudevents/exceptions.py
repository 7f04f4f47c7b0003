"""cloudevents/exceptions.py at 1.12.0: the errors from_http raises."""


class GenericException(Exception):
    pass


class MissingRequiredFields(GenericException):
    pass


class InvalidRequiredFields(GenericException):
    pass
