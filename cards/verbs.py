"""Every card button's verb, in one place: the route table (dialogs/routes.py) owns each one once.

A verb is what an Action.Execute (or Action.Submit) sends back as `verb`; cards put them on
buttons, routes match on them. The values are stored on cards already sent, so never change one.
"""

# help
VERB_RUN_COMMAND = "command.run"  # a button that behaves as if its `command` had been typed

# policy answers
VERB_SHOW_SECTION = "qa.section"
VERB_FEEDBACK = "qa.feedback"
VERB_ASK_GOVERNANCE = "qa.escalate"

# questions passed to the governance team
VERB_RESPOND = "qa.respond"
VERB_ESCALATION_REFRESH = "qa.escalation.refresh"

# tool requests
VERB_REQUEST_TOOL = "tool.request.start"
VERB_REQUEST_SUBMIT = "approval.submit"
VERB_DECIDE = "approval.decide"
VERB_REFRESH = "approval.refresh"
VERB_ANSWER = "approval.answer"
VERB_OPEN_REQUEST = "approval.open"  # a request's card, from the list of those waiting (as "open request REF")

# incidents
VERB_REPORT_START = "incident.start"  # the report form, filled in from something the person told the bot
VERB_REPORT_SUBMIT = "incident.submit"
VERB_TRIAGE = "incident.triage"
VERB_TRIAGE_REFRESH = "incident.refresh"
VERB_OPEN_INCIDENT = "incident.open"  # an incident's triage card, from the list of open ones (as "open incident REF")

# acknowledgements
VERB_ACKNOWLEDGE = "policy.acknowledge"
VERB_READ = "policy.read"
