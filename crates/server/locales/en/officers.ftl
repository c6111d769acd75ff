## The health officer's decisions: check before sending, confirmation, the queue's filters.
## A flag is a "flag" on the officers' pages; a location report is a "location report".

officers-flag-state-open = Waiting for the patient's SMS to go out
officers-flag-state-notified = Waiting for an officer's decision
officers-flag-state-dismissed = Dismissed: no violation
officers-flag-state-confirmed_with_sanction = Confirmed with a sanction
officers-flag-state-appealed = Appealed, waiting for another officer
officers-flag-state-appeal_upheld = Appeal upheld, sanction lifted
officers-flag-state-appeal_rejected = Appeal rejected, sanction stands
officers-event-raised = Flag raised
officers-event-dismissed = Dismissed
officers-event-confirmed = Confirmed

officers-radius-minimum = { $used } m: less than { $used } m is not checked because of GPS accuracy ({ $given } m given)

officers-summary-left-home = Location reports clearly away from home: { $n }, the farthest { $max } m from home.
officers-summary-no-signal = No location reports for { $length }.
officers-summary-checkin-missed = The check-in was not answered by { $time }.
officers-summary-checkin-late = The check-in was answered late, at { $time }.
officers-raised = flag raised { $time }, { $ago } ago

officers-filter-label = Which flags to show
officers-filter-kind = What happened
officers-filter-state = State
officers-filter-age = Raised
officers-filter-any = All
officers-filter-any-age = Any time
officers-age-1h = More than an hour ago
officers-age-1d = More than a day ago
officers-age-3d = More than three days ago
officers-filter-count = { $what } ({ $n })
officers-filter-apply = Show
officers-filter-clear = Clear filters
officers-queue-shown = Showing { $shown } of { $all } flags
officers-queue-none-filtered = No flags like that. Clear the filters to see them all.

officers-note-missing = Give the reason: why you decided so.

officers-check-title = Check your decision before it is sent
officers-check-patient = Patient
officers-check-flag = Flag
officers-check-decision = Decision
officers-check-dismiss = Dismiss the flag: no violation
officers-check-confirm = Violation confirmed
officers-check-sanction = Sanction
officers-check-uphold = Uphold the appeal: the sanction is lifted
officers-check-reject = Reject the appeal: the sanction stays
officers-check-note = Reason
officers-check-no-note = none given
officers-check-sms = SMS to the patient
officers-check-no-sms = none is sent
officers-check-final = The decision cannot be undone: the patient gets this SMS straight away.
officers-check-change = Change your answers
officers-confirm-dismiss = Dismiss the flag and send the SMS
officers-confirm-sanction = Impose the sanction and send the SMS
officers-confirm-appeal = Decide the appeal and send the SMS
officers-check-again-title = Your answers changed
officers-check-again = The decision changed after it was checked, or the flag did. Check it again; nothing has been sent.

officers-done-title = Decision made
officers-done-dismissed = The flag is dismissed. The patient will get an SMS saying there was no violation.
officers-done-confirmed = Sanction imposed: { $sanction }. The patient will get an SMS with the decision and may appeal; another officer decides an appeal.
officers-done-upheld = The appeal is upheld and the sanction lifted. The patient will get an SMS about it.
officers-done-rejected = The appeal is rejected and the sanction stands. The patient will get an SMS about it.
officers-done-back = Back to the flags to decide

officers-close-title = Close the case?
officers-close-now = Now
officers-close-no-sms = none is sent
officers-close-what = What happens
officers-close-what-phones = The patient's phones are disconnected: no more location reports or check-in answers are taken.
officers-close-what-code = The connection code stops working.
officers-close-what-erase = After { $days } the home's location and the photos are erased.
officers-close-final = A closed case cannot be opened again.
officers-close-confirm = Close the case
officers-close-back = Back to the case, nothing changed
officers-closed-title = Case closed
officers-closed-next = The patient's phones are disconnected and the connection code no longer works. After { $days } the home's location and the photos are erased.
