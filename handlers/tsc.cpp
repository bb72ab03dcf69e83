#include "handlers/tsc.hpp"

namespace auditbot::tsc {

const std::vector<Criterion>& catalog() {
  static const std::vector<Criterion> kCatalog{
      {"CC1.1", "security", "Leadership shows commitment to integrity and ethics"},
      {"CC1.2", "security", "The board oversees internal control independently"},
      {"CC1.3", "security", "Management sets structures, reporting lines and authority"},
      {"CC1.4", "security", "The company attracts, develops and keeps competent people"},
      {"CC1.5", "security", "People are held accountable for their control duties"},
      {"CC2.1", "security", "Quality information is produced and used for control"},
      {"CC2.2", "security", "Control information is communicated inside the company"},
      {"CC2.3", "security", "Control matters are communicated with outside parties"},
      {"CC3.1", "security", "Objectives are clear enough to identify risks"},
      {"CC3.2", "security", "Risks to objectives are identified and analysed"},
      {"CC3.3", "security", "Fraud risk is considered in the risk assessment"},
      {"CC3.4", "security", "Changes that affect internal control are identified"},
      {"CC4.1", "security", "Controls are evaluated on an ongoing or separate basis"},
      {"CC4.2", "security", "Control deficiencies are reported and fixed in time"},
      {"CC5.1", "security", "Control activities are chosen to reduce risks"},
      {"CC5.2", "security", "General controls over technology are in place"},
      {"CC5.3", "security", "Policies and procedures put control activities to work"},
      {"CC6.1", "security", "Logical access is restricted by software and architecture"},
      {"CC6.2", "security", "Users are registered and authorised before access"},
      {"CC6.3", "security", "Access is granted, changed and removed by role"},
      {"CC6.4", "security", "Physical access to facilities and assets is restricted"},
      {"CC6.5", "security", "Assets are disposed of so data cannot be recovered"},
      {"CC6.6", "security", "Threats from outside the system boundary are blocked"},
      {"CC6.7", "security", "Data in transit and on media is protected"},
      {"CC6.8", "security", "Unauthorised or malicious software is prevented or found"},
      {"CC7.1", "security", "Configuration changes and vulnerabilities are detected"},
      {"CC7.2", "security", "System components are monitored for anomalies"},
      {"CC7.3", "security", "Security events are evaluated as possible incidents"},
      {"CC7.4", "security", "Incidents are responded to with a defined programme"},
      {"CC7.5", "security", "The company recovers from identified incidents"},
      {"CC8.1", "security", "Changes are authorised, designed, tested and approved"},
      {"CC9.1", "security", "Risks of business disruption are mitigated"},
      {"CC9.2", "security", "Risks from vendors and business partners are managed"},
      {"A1.1", "availability", "Capacity is monitored and planned to meet demand"},
      {"A1.2", "availability", "Environment, backups and recovery infrastructure are managed"},
      {"A1.3", "availability", "Recovery plans are tested"},
      {"PI1.1", "processing_integrity",
       "Processing objectives and data definitions are documented"},
      {"PI1.2", "processing_integrity", "System inputs are complete and accurate"},
      {"PI1.3", "processing_integrity", "Processing is complete, accurate and timely"},
      {"PI1.4", "processing_integrity", "Outputs are complete, accurate and delivered as intended"},
      {"PI1.5", "processing_integrity", "Stored data is complete, accurate and kept as specified"},
      {"C1.1", "confidentiality", "Confidential information is identified and protected"},
      {"C1.2", "confidentiality", "Confidential information is disposed of as agreed"},
      {"P1.1", "privacy", "Data subjects are told about privacy practices"},
      {"P2.1", "privacy", "Choices and consent are communicated and recorded"},
      {"P3.1", "privacy", "Personal information is collected only for stated purposes"},
      {"P3.2", "privacy", "Explicit consent is obtained where required"},
      {"P4.1", "privacy", "Personal information is used only for stated purposes"},
      {"P4.2", "privacy", "Personal information is retained only as long as needed"},
      {"P4.3", "privacy", "Personal information is disposed of securely"},
      {"P5.1", "privacy", "Data subjects can access their personal information"},
      {"P5.2", "privacy", "Data subjects can correct their personal information"},
      {"P6.1", "privacy", "Disclosure to third parties happens only with consent"},
      {"P6.2", "privacy", "Authorised disclosures are recorded"},
      {"P6.3", "privacy", "Unauthorised disclosures are recorded"},
      {"P6.4", "privacy", "Vendors handling personal information are held to commitments"},
      {"P6.5", "privacy", "Vendors report unauthorised disclosures"},
      {"P6.6", "privacy", "Affected parties are told about breaches"},
      {"P6.7", "privacy", "Data subjects get an account of their stored information"},
      {"P7.1", "privacy", "Personal information is kept accurate and complete"},
      {"P8.1", "privacy", "Privacy inquiries, complaints and disputes are handled"},
  };
  return kCatalog;
}

const Criterion* find(std::string_view id) {
  for (const auto& c : catalog()) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

const std::vector<std::string_view>& categories() {
  static const std::vector<std::string_view> kCategories{
      "security", "availability", "processing_integrity", "confidentiality", "privacy"};
  return kCategories;
}

std::string_view category_name(std::string_view category) {
  if (category == "security") return "Security";
  if (category == "availability") return "Availability";
  if (category == "processing_integrity") return "Processing integrity";
  if (category == "confidentiality") return "Confidentiality";
  if (category == "privacy") return "Privacy";
  return category;
}

}  // namespace auditbot::tsc
