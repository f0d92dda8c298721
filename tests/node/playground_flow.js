// Drives the Microsoft 365 Agents Playground's web UI (headless Chromium) through a policy question
// and card buttons, a question passed to the governance team and answered on its card, an incident, and a
// tool request with its approval.
// Usage: node playground_flow.js PLAYGROUND_URL SCREENSHOT_DIR BOT_MESSAGES_URL OTHER_USERS_REQUEST_JSON
const fs = require('fs');
const { chromium } = require('playwright-core');

const [url, shots, botUrl, otherRequest] = process.argv.slice(2);

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  try {
    await page.goto(url, { waitUntil: 'networkidle' });
    // The install event brings the welcome card (policy 9.1: what the bot is, how to reach a person).
    await page.getByText('To reach a person:').first().waitFor({ timeout: 20000 });

    // Then the acknowledgement prompt (policy 17): confirm, and see it recorded.
    await page.getByText('Please confirm you have read the GenAI policy').first().waitFor({ timeout: 20000 });
    await page.getByRole('button', { name: 'I have read and understood the policy', exact: true }).first().click();
    await page.getByText(/Thank you\. Recorded: version/).first().waitFor({ timeout: 20000 });

    const box = page.locator('[data-lexical-editor="true"]');
    await box.click();
    await page.keyboard.type('Can I use ChatGPT to draft a press release?');
    await page.keyboard.press('Enter');
    await page.getByText('7.1 Permitted uses').first().waitFor({ timeout: 20000 });
    await page.getByText('ChatGPT', { exact: true }).first().waitFor({ timeout: 5000 });
    await page.screenshot({ path: `${shots}/answer.png` });

    // An Action.Execute button: the Playground sends an adaptiveCard/action invoke and shows our response card.
    await page.getByRole('button', { name: 'Read section 7.1', exact: true }).last().click();
    await page.getByText('brainstorm ideas, plan projects').first().waitFor({ timeout: 20000 });
    await page.screenshot({ path: `${shots}/after-buttons.png` });

    // Pass the question to the governance team. Alex is a governance member too, so the question's card
    // comes to him 1:1; he answers it there with a section, and the answer comes back to him as the asker.
    await page.getByRole('button', { name: 'Ask the governance team', exact: true }).last().click();
    await page.getByRole('button', { name: 'Send to the governance team', exact: true }).last().click();
    await page.getByText(/Passed to the governance team: Q-\d{4}-\d{4}/).first().waitFor({ timeout: 20000 });
    const question = page.locator('.ac-adaptiveCard', { hasText: /Staff question Q-\d{4}-\d{4}/ }).last();
    await question.waitFor({ timeout: 20000 });
    await question.getByRole('button', { name: 'This passage answers it', exact: true }).click();
    await question.getByPlaceholder('e.g. 7.2, or approved tools register').fill('7.1');
    await question.getByRole('button', { name: 'Send this passage', exact: true }).click();
    await page.getByText(/chose section 7\.1 Permitted uses/).first().waitFor({ timeout: 20000 });
    await page.getByText(/says this passage of the policy answers it/).first().waitFor({ timeout: 20000 });
    await page.screenshot({ path: `${shots}/escalation-answered.png` });

    // Tell the bot what happened: the answer offers the incident form, filled in with those words.
    await box.click();
    await page.keyboard.type('I pasted a resident\'s address into Copilot by mistake');
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Report it now', exact: true }).last().click();
    const form = page.locator('.ac-adaptiveCard', { hasText: 'Report an AI concern or incident' }).last();
    await form.waitFor({ timeout: 20000 });
    const told = await form.locator('textarea').first().inputValue();
    const tool = await form.getByPlaceholder('e.g. ChatGPT, Copilot, or unknown').inputValue();
    if (told !== 'I pasted a resident\'s address into Copilot by mistake' || !tool.includes('Copilot')) {
      throw new Error(`the report form was not filled in from the message: ${JSON.stringify([told, tool])}`);
    }
    await form.getByText('Not sure', { exact: true }).click();
    await form.getByRole('combobox').click();
    await page.getByRole('option', { name: 'Personal or confidential data exposed' }).click();
    await form.getByText('High', { exact: true }).click();
    await form.getByRole('button', { name: 'Send report', exact: true }).click();
    await page.getByText(/Report received: INC-\d{4}-\d{4}/).first().waitFor({ timeout: 20000 });
    await page.getByText('Possible personal data breach').first().waitFor({ timeout: 5000 });
    await page.screenshot({ path: `${shots}/incident-receipt.png` });

    // Triage: the cards for governance and security arrive; acknowledging one updates both in place
    // and tells the reporter.
    const triage = page.locator('.ac-adaptiveCard', { hasText: 'AI incident INC-' });
    await triage.first().waitFor({ timeout: 20000 });
    await triage.first().getByRole('button', { name: 'Acknowledge', exact: true }).click();
    await page.getByText(/has been acknowledged by the triage team/).first().waitFor({ timeout: 20000 });
    await page.waitForTimeout(1500);
    await page.screenshot({ path: `${shots}/incident-triaged.png` });

    // Request a tool through the form card. Alex is an approver, but not of his own request: his copy
    // of the approvers' card is read-only.
    await box.click();
    await page.keyboard.type('request tool Gamma');
    await page.keyboard.press('Enter');
    const request = page.locator('.ac-adaptiveCard', { hasText: 'Request approval for an AI tool' }).last();
    await request.waitFor({ timeout: 20000 });
    const texts = request.locator('textarea');
    await texts.nth(0).fill('Draft slide decks for internal briefings.');
    await request.getByRole('combobox').nth(0).click();
    await page.getByRole('option', { name: 'Public information', exact: true }).click();
    await texts.nth(1).fill('Published committee reports.');
    await texts.nth(2).fill('Slide decks.');
    await texts.nth(3).fill('Shown at internal briefings after review.');
    await request.getByRole('combobox').nth(1).click();
    await page.getByRole('option', { name: 'Public tool', exact: true }).click();
    await request.getByRole('button', { name: 'Send request', exact: true }).click();
    await page.getByText(/Request received: REQ-\d{4}-\d{4}/).first().waitFor({ timeout: 20000 });
    const own = page.locator('.ac-adaptiveCard', { hasText: /AI tool request REQ-\d{4}-0001/ }).last();
    await own.waitFor({ timeout: 20000 });
    if (await own.getByRole('button', { name: 'Approve', exact: true }).count() !== 0) {
      throw new Error('the requester was offered Approve on their own request');
    }

    // Megan asks for Otter.ai from her own Teams client (sent to the bot in Teams' protocol); the
    // approvers' card reaches Alex, who approves it with conditions on the card.
    const sent = await fetch(botUrl, { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                       body: fs.readFileSync(otherRequest, 'utf8') });
    if (sent.status !== 200) throw new Error(`the other user's request got HTTP ${sent.status}`);
    const card = page.locator('.ac-adaptiveCard', { hasText: /AI tool request REQ-\d{4}-0002: Otter\.ai/ }).last();
    await card.waitFor({ timeout: 20000 });
    await card.getByText('DPIA required').first().waitFor({ timeout: 5000 });
    await card.getByRole('button', { name: 'Approve with conditions', exact: true }).click();
    await card.locator('textarea').first().fill('Internal meetings only; delete recordings after 30 days.');
    await card.getByRole('button', { name: 'Approve with these conditions', exact: true }).click();
    await page.locator('.ac-adaptiveCard', { hasText: /Approved with conditions.* by Alex Wilber/ }).first()
      .waitFor({ timeout: 20000 });
    await page.screenshot({ path: `${shots}/approval-decided.png` });

    // The register now says so.
    await box.click();
    await page.keyboard.type('Can I use Otter.ai to transcribe a meeting?');
    await page.keyboard.press('Enter');
    await page.getByText(/Otter\.ai.* is approved with conditions/).first().waitFor({ timeout: 20000 });
    console.log('playground flow ok');
  } catch (error) {
    await page.screenshot({ path: `${shots}/failure.png` }).catch(() => {});
    console.error(`playground flow FAILED: ${error.message}`);
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
})();
