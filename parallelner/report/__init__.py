"""What a finished run shows a person: the HTML report page, evaluation against gold."""
