## Trust pages: the footer, help, privacy notice, accessibility statement

footer-label = About this service
footer-help = Help and contact
footer-privacy = Privacy
footer-accessibility = Accessibility

# Shown where the operator is not configured.
operator-default = the authority that introduced the restrictions

## The start page's SMS hint, with the number

start-sms-number = No internet? Text HELP to { $number } — you can get passes by SMS too.
start-sms-how = How to get a pass by SMS

## Help

help-title = Help
help-lead = How to get a pass on the web or by SMS, and whom to contact if something does not work.
help-web-title = A pass on the web
help-web-1 = Sign in with your mobile number: we will text you a code.
help-web-2 = Fill in your profile once: your name, document and address.
help-web-3 = Choose why you are going out. The pass, with its QR code and short code, appears at once. Show it to a police officer or read out the short code.
help-web-start = Get a pass on the web
help-sms-title = A pass by SMS
help-sms-lead = Without internet access, you can get a pass by SMS. Send your message to:
help-sms-free = Write the commands in English or Russian, in capitals or not. The answer comes in the language you wrote in.
help-sms-table = SMS commands
help-sms-col-send = What to send
help-sms-col-does = What happens
help-cmd-help = HELP
help-cmd-help-does = You get the list of purposes with their codes, and the commands.
help-cmd-register = REGISTER#Maria Ivanova#4510 123456#1 Tverskaya St, Moscow
help-cmd-register-does = Registers you if you have not filled in a profile yet: your name, passport series and number, and address, separated by #. The address may be left out.
# The SMS keyword of a pass request, in the examples of the purpose codes.
help-pass-keyword = PASS
help-cmd-pass = PASS 3
help-cmd-pass-does = A pass for the purpose with code 3, from now. The answer gives the pass's short code.
help-cmd-pass-at = PASS 3 18:30
help-cmd-pass-at-does = The same, from 18:30 today.
help-cmd-status = STATUS
help-cmd-status-does = Your current and upcoming passes.
help-cmd-cancel = CANCEL 7K3-QX9-4MM
help-cmd-cancel-does = Cancels the pass with this short code.
help-cmd-code = 7K3-QX9-4MM
help-cmd-code-does = Tells you whether the pass with this code is valid.
help-purposes-title = Purpose codes
help-purposes-lead = The purposes passes are issued for now ({ $regime }):
help-purposes-none = No restrictions are in force now: you do not need a pass.
help-purposes-col-code = Code
help-purposes-col-purpose = Purpose
help-purposes-col-send = Example SMS
help-purposes-fields = Add after *: { $fields }.
help-quarantine-title = If you are in quarantine
help-quarantine-text = If a health officer has placed you under home monitoring, connect your phone with the code they gave you.
help-quarantine-link = Connect your phone
help-quarantine-questions = For questions about your case, contact the health officer in charge of it, or the hotline.
help-contact-title = Contact us
help-contact-hotline = Hotline
help-contact-email = Email
help-contact-sms = SMS number
help-contact-operator = Run by

## Privacy notice

privacy-title = Privacy notice
privacy-lead = What this service keeps about you, for how long, who sees it, and on what legal basis.
privacy-who-title = Who is responsible for your data
privacy-who = Your personal data is controlled by { $operator }.
privacy-who-contact = Questions and requests about your data:
privacy-kept-title = What we keep
privacy-col-what = What
privacy-col-kept = How long
privacy-col-who = Who sees it
privacy-profile = Your profile
privacy-profile-what = Your mobile number, full name, identity document type and number, home address and its coordinates, and the language for messages.
privacy-profile-kept = While the restrictions are in force. The service does not delete profiles by itself: the operator deletes them when the restrictions end.
privacy-profile-who = You. The police see only your initials and the last 4 digits of your document, to match the pass to the document.
privacy-passes = Passes
privacy-passes-what = The purpose, start and end times and short code; for work, the employer's tax number (INN). The QR code holds no name and no full document number.
privacy-passes-kept = While the restrictions are in force, like your profile. A cancelled pass leaves the public list of cancelled passes once it would have ended.
privacy-passes-who = You, and the police officer who checks the pass: they see the purpose, validity, your initials and the last digits of your document.
privacy-signin = Signing in
privacy-signin-what = The code we text you is kept only in scrambled form (a hash) and works for 5 minutes. Once you sign in, your browser keeps a session cookie.
privacy-signin-kept = Signing in on the web lasts { $resident_days } { $resident_days ->
        [one] day
       *[other] days
    }, and a staff member's { $staff_hours } { $staff_hours ->
        [one] hour
       *[other] hours
    }; then the session is deleted. Records used to limit how often requests are made are deleted after a day.
privacy-signin-who = Nobody: codes and sessions are shown neither to you nor to staff.
privacy-sms = Text messages
privacy-sms-what = The messages you send to the service's number, and its answers.
privacy-sms-kept = While the restrictions are in force, like your profile.
privacy-sms-who = The service's administrators, to check delivery; they see your phone number partly hidden.
privacy-monitoring = Quarantine monitoring
privacy-monitoring-what = Only if a health officer has placed you under home monitoring: your quarantine address, the places your phone reports, photos of your face when you connect and at check-ins, flags of possible breaches and the officers' decisions.
privacy-monitoring-kept = Places are deleted a whole day at a time, { $days } { $days ->
        [one] day
       *[other] days
    } after the day they were reported. Photos, check-in places and the address are deleted { $days } { $days ->
        [one] day
       *[other] days
    } after the case is closed. Flags (without maps or places) and the decisions on them are kept.
privacy-monitoring-who = The health officers of the monitoring service. The police never see them. Only a person decides on a breach, and you can appeal.
privacy-audit = Record of staff actions
privacy-audit-what = Every time a staff member looks at your data, and every decision they make: who, when and what. The record is protected against unnoticed changes.
privacy-audit-kept = It is not deleted: it is how anyone can check that your data was handled properly.
privacy-audit-who = The service's administrators and the supervising authorities.
privacy-cookies = Cookies
privacy-cookies-what = Only the necessary ones: your sign-in session, protection of forms against forgery, and your chosen language. No advertising, no visitor counters, no scripts from other sites.
privacy-cookies-kept = The session as long as you are signed in; the language for 1 year.
privacy-cookies-who = Only this service.
privacy-basis-title = Legal basis
privacy-basis-default = Your data is processed to carry out the act that introduced the restrictions, and to protect people's life and health: Federal Law No. 152-FZ of 27 July 2006 “On Personal Data” (articles 6 and 10) and Federal Law No. 52-FZ of 30 March 1999 “On the Sanitary and Epidemiological Welfare of the Population”.
privacy-basis-act = Restrictions in force: { $regime }. They were introduced by { $act }.
privacy-basis-act-link = Read the act
privacy-rights-title = Your rights
privacy-rights = You can find out what data about you is kept, and have wrong data corrected. You can correct your profile yourself on the web. You can appeal a health officer's decision. If you think your data is handled wrongly, you can complain to Roskomnadzor, the personal data authority.

## Accessibility statement

accessibility-title = Accessibility statement
accessibility-lead = We want everyone to be able to use this service, including with a screen reader, with a keyboard only, with enlarged text and on an old phone.
accessibility-standard-title = How accessible this service is
accessibility-standard = We aim for level AA of the Web Content Accessibility Guidelines (WCAG) 2.1 and for the Russian standard GOST R 52872-2019. The service partly meets them: below is what has been tested and what is not right yet.
accessibility-tested-title = What has been tested
accessibility-tested-axe = The pages for residents, health officers and patients, in Russian and English, are checked automatically (axe-core in the Chromium browser) against the WCAG 2.1 level A and AA rules: there are no serious or critical problems.
accessibility-tested-keyboard = The pages can be used with a keyboard only: signing in with the SMS code is tested that way. You can always see where you are (a yellow outline). Every form on the pages also works without JavaScript.
accessibility-tested-zoom = At a screen width of 320 pixels, and on a phone zoomed to 200 %, no page scrolls sideways.
accessibility-tested-structure = For screen readers: every page has one main heading, header, content and footer regions, and a “Skip to main content” link; every field has a label; errors are listed at the top of the form with links to the fields, and repeated at each field; the page's language is set.
accessibility-tested-contrast = Text contrasts with its background at level AA. Meaning is not given by colour alone: states and errors are also written out.
accessibility-limits-title = What is not right yet
accessibility-limits-people = The service has not yet been tested by disabled people or with screen readers (NVDA, JAWS, VoiceOver, TalkBack): so far the checks are automatic and of the pages' structure.
accessibility-limits-qr = A pass's QR code is a picture. If you cannot show it, use the short code instead: you can read it out to a police officer, and it also comes by SMS.
accessibility-limits-photo = Quarantine check-ins need a photo of your face. If you cannot take one, tell your health officer or call the hotline.
accessibility-limits-tables = On the health officers' pages, wide tables scroll sideways within their frame on narrow screens.
accessibility-report-title = Report a problem
accessibility-report = If something stops you from using this service, write to us or call. Tell us the page's address and what did not work: we will help you get what you need another way, and fix the page.
accessibility-version = This statement is about version { $version } of the service.
