// The wizard's Input step: show the chosen source's fields, upload a file with a progress bar.
"use strict";
(() => {
  const form = document.getElementById("input-form");
  if (!form) return;
  const panels = form.querySelectorAll(".source-panel");
  const verifyResult = document.getElementById("verify-result");
  const fileInput = document.getElementById("upload-file");
  const bar = document.getElementById("upload-progress");
  const message = document.getElementById("upload-message");
  const continueButton = document.getElementById("continue");
  const limit = Number(form.dataset.uploadLimit);

  function showChosenPanel() {
    const chosen = form.querySelector('input[name="source"]:checked');
    panels.forEach((panel) => { panel.hidden = Boolean(chosen) && panel.dataset.source !== chosen.value; });
  }
  form.querySelectorAll('input[name="source"]').forEach((radio) =>
    radio.addEventListener("change", () => { showChosenPanel(); verifyResult.innerHTML = ""; }));
  showChosenPanel();

  function size(bytes) {
    const units = ["bytes", "KB", "MB", "GB", "TB"];
    let value = bytes, unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return `${unit ? value.toFixed(1) : value} ${units[unit]}`;
  }
  function say(text, isError = false) {
    message.textContent = text;
    message.classList.toggle("error", isError);
  }
  function setProgress(fraction) {
    bar.firstElementChild.style.width = `${Math.round(fraction * 100)}%`;
  }
  function csrfToken() {
    return window.amlConsole.csrfToken() || form.elements.csrfmiddlewaretoken.value;
  }

  function uploaded(body) {
    form.elements.upload_location.value = body.location;
    form.elements.upload_filename.value = body.filename;
    if (!form.elements.name.value) form.elements.name.value = body.name;
    setProgress(1);
    say(`Uploaded ${body.filename} (${size(body.size)}).`);
    document.getElementById("verify-upload").click(); // show what the file holds straight away
  }

  function upload(file) {
    const data = new FormData();
    data.append("file", file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.uploadUrl);
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.responseType = "json";
    xhr.upload.onprogress = (event) => { if (event.lengthComputable) setProgress(event.loaded / event.total); };
    xhr.onload = () => {
      continueButton.disabled = false;
      if (xhr.status === 200 && xhr.response) return uploaded(xhr.response);
      say((xhr.response && xhr.response.error) || `The upload failed (HTTP ${xhr.status}).`, true);
    };
    xhr.onerror = () => {
      continueButton.disabled = false;
      say("The upload was interrupted: the file may be over the limit, or the connection dropped.", true);
    };
    bar.hidden = false;
    setProgress(0);
    say(`Uploading ${file.name} (${size(file.size)})…`);
    continueButton.disabled = true; // Continue needs the upload's location
    xhr.send(data);
  }

  fileInput.addEventListener("change", () => {
    const file = fileInput.files[0];
    form.elements.upload_location.value = "";
    form.elements.upload_filename.value = "";
    verifyResult.innerHTML = "";
    if (!file) return;
    if (file.size > limit) {
      say(`${file.name} is ${size(file.size)}: larger than the upload limit of ${size(limit)}.`, true);
      return;
    }
    upload(file);
  });
})();
