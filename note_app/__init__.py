"""The note app: the code the lab deploys as its Lambda function (see ``handler``)."""
